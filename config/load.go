package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads the config file at path with the process environment: see
// LoadEnv.
func Load(path string) (*Config, error) { return LoadEnv(path, os.Getenv) }

// LoadEnv reads the config file at path, looking environment variables up
// with getenv (for ${VAR} expansion and the EIMSHUB_* overrides), and
// returns the validated configuration. Configuration errors are an Errors
// value naming file, line and key of every problem.
func LoadEnv(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, getenv)
}

// Parse is LoadEnv on data already read; name is used in error messages.
//
// Steps, in order: parse the YAML; expand ${VAR} and ${VAR:-default} in
// every scalar value (on the node tree, so lines stay right; "$${" is a
// literal "${"); reject unknown keys, duplicate keys and values of the wrong
// type; decode over Default(); apply the EIMSHUB_* overrides (ApplyEnv);
// fill derived defaults; Validate.
func Parse(name string, data []byte, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	src := newSources(name)
	col := &collector{src: src}
	cfg := Default()
	root, err := parseYAML(data)
	if err != nil {
		p := src.problem("", nil, err.Error())
		var se *syntaxError
		if errors.As(err, &se) {
			p.Line, p.Msg = se.line, se.msg
		}
		return nil, Errors{p}
	}
	if root != nil {
		expandTree(root, "", getenv, col)
		if root.Kind != yaml.MappingNode {
			col.add("", "expected a mapping at the top level, got %s", kindName(root))
		} else {
			checkShape(root, reflect.TypeOf(cfg), "", col)
		}
		if err := col.err(); err != nil {
			return nil, err
		}
		if err := root.Decode(&cfg); err != nil {
			return nil, decodeProblems(src, err)
		}
		enableNullConnectors(root, &cfg)
	}
	cfg.src = src
	cfg.ApplyEnv(getenv)
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// The environment overrides ApplyEnv reads.
const (
	EnvListen   = "EIMSHUB_LISTEN"    // server.listen
	EnvDataDir  = "EIMSHUB_DATA_DIR"  // dataDir
	EnvMongoURI = "EIMSHUB_MONGO_URI" // storage.url
	EnvRedisURL = "EIMSHUB_REDIS_URL" // cache.url
)

// ApplyEnv applies the environment overrides (empty values are ignored):
// EIMSHUB_LISTEN sets server.listen, EIMSHUB_DATA_DIR sets dataDir,
// EIMSHUB_MONGO_URI sets storage.url and EIMSHUB_REDIS_URL sets cache.url
// (replacing storage.mongo.uri and cache.redis.url). Validation errors for
// an overridden key name the variable instead of a file line.
func (c *Config) ApplyEnv(getenv func(string) string) {
	if c.src == nil {
		c.src = newSources("")
	}
	set := func(env, key string, p *string, alias *string) {
		v := getenv(env)
		if v == "" {
			return
		}
		*p = v
		c.src.keys[key] = source{env: env}
		if alias != nil {
			*alias = ""
		}
	}
	set(EnvListen, "server.listen", &c.Server.Listen, nil)
	set(EnvDataDir, "dataDir", &c.DataDir, nil)
	set(EnvMongoURI, "storage.url", &c.Storage.URL, &c.Storage.Mongo.URI)
	set(EnvRedisURL, "cache.url", &c.Cache.URL, &c.Cache.Redis.URL)
}

// enableNullConnectors enables connectors listed with an empty value
// ("h3yun:"), which yaml decodes to a zero Connector without calling its
// UnmarshalYAML.
func enableNullConnectors(root *yaml.Node, cfg *Config) {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "connectors" || root.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		m := root.Content[i+1]
		for j := 0; j+1 < len(m.Content); j += 2 {
			if v := m.Content[j+1]; v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
				cn := cfg.Connectors[m.Content[j].Value]
				cn.Enabled = true
				cfg.Connectors[m.Content[j].Value] = cn
			}
		}
	}
}

// syntaxError is a YAML parse error with its line.
type syntaxError struct {
	line int
	msg  string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// parseYAML parses one YAML document into its root node (nil when empty).
func parseYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, toSyntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, toSyntaxError(err)
		}
		return nil, &syntaxError{line: extra.Line, msg: "only one YAML document is allowed"}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil
	}
	return root, nil
}

func toSyntaxError(err error) error {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &syntaxError{line: line, msg: "invalid YAML: " + m[2]}
	}
	return fmt.Errorf("invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
}

// decodeProblems converts a yaml decode error (not expected after
// checkShape) into problems with lines.
func decodeProblems(src *sources, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return Errors{src.problem("", nil, err.Error())}
	}
	var list Errors
	for _, e := range te.Errors {
		p := src.problem("", nil, e)
		if m := yamlLineRE.FindStringSubmatch(e); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Msg = m[2]
		}
		list = append(list, p)
	}
	return list
}

// ---- ${VAR} expansion -------------------------------------------------

// expandTree expands variables in every scalar value under n and records
// the line of every key path.
func expandTree(n *yaml.Node, path string, getenv func(string) string, col *collector) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinKey(path, k.Value)
			if _, seen := col.src.keys[p]; !seen {
				col.src.keys[p] = source{line: k.Line}
			}
			expandTree(v, p, getenv, col)
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			col.src.keys[p] = source{line: v.Line}
			expandTree(v, p, getenv, col)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") {
			return
		}
		v, err := expandString(n.Value, getenv)
		if err != nil {
			p := col.src.problem(path, nil, err.Error())
			p.Line = n.Line
			if errors.Is(err, ErrUnsetVariable) {
				p.Err = ErrUnsetVariable
			}
			col.list = append(col.list, p)
			return
		}
		if v != n.Value {
			n.Value = v
			// A plain scalar is typed by its text: let "${PORT}" become an
			// int, "${FLAG}" a bool, as if the value had been written out.
			if n.Style&(yaml.TaggedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
				n.Tag = ""
			}
		}
	}
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expandString replaces ${VAR} (VAR must be set and non-empty) and
// ${VAR:-default} (default when VAR is unset or empty); "$${" is a literal
// "${" and any other "$" is kept.
func expandString(s string, getenv func(string) string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "$")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "$${"):
			b.WriteString("${")
			s = s[3:]
			continue
		case !strings.HasPrefix(s, "${"):
			b.WriteByte('$')
			s = s[1:]
			continue
		}
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated %q (want ${VAR} or ${VAR:-default}; write $${ for a literal ${)", s)
		}
		expr := s[2:end]
		s = s[end+1:]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !envNameRE.MatchString(name) {
			return "", fmt.Errorf("invalid variable reference ${%s}", expr)
		}
		v := getenv(name)
		if v == "" {
			if !hasDef {
				return "", fmt.Errorf("%w: ${%s} (set it, or write ${%s:-default})", ErrUnsetVariable, name, name)
			}
			v = def
		}
		b.WriteString(v)
	}
}

// ---- strict shape check ----------------------------------------------

var (
	nodeType        = reflect.TypeOf(yaml.Node{})
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

// checkShape walks n against the Go type t: it reports unknown keys,
// duplicate keys, and values that do not decode into their field, each
// with its key path. It replaces yaml.Decoder.KnownFields, which cannot be
// combined with decoding an (expanded) node tree and reports no key path.
func checkShape(n *yaml.Node, t reflect.Type, path string, col *collector) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nodeType {
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) && (t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			at(col, path, n, nil, "%s", decodeMsg(err))
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			at(col, path, n, nil, "expected a mapping, got %s", kindName(n))
			return
		}
		fields := yamlFields(t)
		forEachPair(n, path, col, func(k, v *yaml.Node) {
			p := joinKey(path, k.Value)
			ft, ok := fields[k.Value]
			if !ok && path == "" && strings.HasPrefix(k.Value, "x-") {
				return // top-level scratch keys hold YAML anchors
			}
			if !ok {
				at(col, p, k, ErrUnknownKey, "unknown key%s", suggest(k.Value, fields))
				return
			}
			checkShape(v, ft, p, col)
		}, func(v *yaml.Node) { checkShape(v, t, path, col) })
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			at(col, path, n, nil, "expected a mapping, got %s", kindName(n))
			return
		}
		forEachPair(n, path, col, func(k, v *yaml.Node) {
			checkShape(v, t.Elem(), joinKey(path, k.Value), col)
		}, func(v *yaml.Node) { checkShape(v, t, path, col) })
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			at(col, path, n, nil, "expected a list, got %s", kindName(n))
			return
		}
		for i, v := range n.Content {
			checkShape(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i), col)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			at(col, path, n, nil, "expected %s, got %s", typeName(t), kindName(n))
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			at(col, path, n, nil, "expected %s, got %q", typeName(t), n.Value)
		}
	}
}

// forEachPair visits the pairs of a mapping, reporting duplicate keys and
// resolving merge keys ("<<: *anchor") through merge.
func forEachPair(n *yaml.Node, path string, col *collector, visit func(k, v *yaml.Node), merge func(v *yaml.Node)) {
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			at(col, path, k, nil, "keys must be strings")
			continue
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			if v.Kind == yaml.SequenceNode {
				for _, m := range v.Content {
					merge(m)
				}
			} else {
				merge(v)
			}
			continue
		}
		if line, dup := first[k.Value]; dup {
			at(col, joinKey(path, k.Value), k, nil, "duplicate key (first defined at line %d)", line)
			continue
		}
		first[k.Value] = k.Line
		visit(k, v)
	}
}

// at records a problem at node n's own line.
func at(col *collector, path string, n *yaml.Node, cause error, format string, args ...any) {
	p := col.src.problem(path, cause, fmt.Sprintf(format, args...))
	p.Line = n.Line
	col.list = append(col.list, p)
}

// yamlFields maps a struct's YAML keys to field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

// suggest proposes the known key closest to an unknown one.
func suggest(key string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for name := range fields {
		d := editDistance(strings.ToLower(key), strings.ToLower(name))
		if d < bestD || (d == bestD && name < best) {
			best, bestD = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "an alias"
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

// decodeMsg strips yaml's wrapping from a custom unmarshaler's error.
func decodeMsg(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		if m := yamlLineRE.FindStringSubmatch(te.Errors[0]); m != nil {
			return m[2]
		}
		return te.Errors[0]
	}
	return err.Error()
}
