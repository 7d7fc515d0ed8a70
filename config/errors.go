package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sentinel causes, reachable with errors.Is through Errors.
var (
	// ErrUnsupportedStorage: storage.url has a scheme no store adapter serves.
	ErrUnsupportedStorage = errors.New("unsupported storage URL")
	// ErrUnsupportedCache: cache.url has a scheme no cache adapter serves.
	ErrUnsupportedCache = errors.New("unsupported cache URL")
	// ErrUnknownKey: the file has a key the schema does not know.
	ErrUnknownKey = errors.New("unknown key")
	// ErrUnsetVariable: ${VAR} names an unset environment variable.
	ErrUnsetVariable = errors.New("environment variable not set")
)

// Problem is one configuration error, printed as "file:line: key: message".
type Problem struct {
	// File is the config file as given to Load; for a value set by an
	// environment override it is "$VARIABLE"; "" for a built-in default.
	File string
	// Line is the 1-based line of the key (or of its closest enclosing
	// key when the key itself is absent); 0 when unknown.
	Line int
	// Key is the dotted path, e.g. "tenants[0].clients[1].secret".
	Key string
	// Msg says what is wrong.
	Msg string
	// Err is an optional sentinel cause (ErrUnsupportedStorage, …).
	Err error
}

func (p *Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Unwrap returns the sentinel cause.
func (p *Problem) Unwrap() error { return p.Err }

// Errors lists every problem found, in file order; Error prints one problem
// per line. errors.Is/As reach each Problem and its cause.
type Errors []*Problem

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, p := range e {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems.
func (e Errors) Unwrap() []error {
	errs := make([]error, len(e))
	for i, p := range e {
		errs[i] = p
	}
	return errs
}

// source is where a key's value came from.
type source struct {
	line int    // line in the file (0: not in the file)
	env  string // environment variable that overrode it
}

// sources maps key paths to their origin.
type sources struct {
	file string
	keys map[string]source
}

func newSources(file string) *sources {
	return &sources{file: file, keys: map[string]source{}}
}

// parentPath strips the last ".name" or "[i]" of a key path.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// problem builds a Problem for key, locating it in the file or the
// environment variable that set it.
func (s *sources) problem(key string, err error, msg string) *Problem {
	p := &Problem{Key: key, Msg: msg, Err: err}
	if s == nil {
		return p
	}
	p.File = s.file
	for k := key; k != ""; k = parentPath(k) {
		src, ok := s.keys[k]
		if !ok {
			continue
		}
		if src.env != "" {
			p.File, p.Line = "$"+src.env, 0
		} else {
			p.Line = src.line
		}
		break
	}
	return p
}

// collector gathers problems.
type collector struct {
	src  *sources
	list Errors
}

func (c *collector) add(key, format string, args ...any) {
	c.list = append(c.list, c.src.problem(key, nil, fmt.Sprintf(format, args...)))
}

func (c *collector) addErr(key string, cause error, format string, args ...any) {
	c.list = append(c.list, c.src.problem(key, cause, fmt.Sprintf(format, args...)))
}

// err returns the problems sorted by file and line (stable), or nil.
func (c *collector) err() error {
	if len(c.list) == 0 {
		return nil
	}
	sort.SliceStable(c.list, func(i, j int) bool {
		a, b := c.list[i], c.list[j]
		if a.File != b.File {
			// File problems first, then environment, then defaults.
			return rank(a.File, c.src) < rank(b.File, c.src)
		}
		return a.Line < b.Line
	})
	return c.list
}

func rank(file string, s *sources) int {
	switch {
	case s != nil && file == s.file:
		return 0
	case strings.HasPrefix(file, "$"):
		return 1
	}
	return 2
}

// alias makes key report the origin of from (a value copied from another key).
func (s *sources) alias(key, from string) {
	if s == nil {
		return
	}
	if src, ok := s.keys[from]; ok {
		s.keys[key] = src
	}
}

// Problem reports a problem found outside this package (a connector's own
// check of its config: block) the way the loader reports its own: at the
// file line of key, or of its closest enclosing key present in the file,
// or against the environment variable that set it. key is a dotted path
// such as "connectors.h3yun.config.engineCode".
func (c *Config) Problem(key string, cause error, format string, args ...any) *Problem {
	return c.src.problem(key, cause, fmt.Sprintf(format, args...))
}
