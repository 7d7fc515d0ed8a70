package main

// `eimshub config check FILE`: the schema, then each enabled connector's
// own validation, every problem reported at its file line.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/eimshub/eimshub/config"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// checkConfig loads and validates a config file without starting anything:
// config.LoadEnv's checks, then checkConnectors.
func checkConfig(path string, getenv func(string) string) error {
	cfg, err := config.LoadEnv(path, getenv)
	if err != nil {
		return err
	}
	return checkConnectors(cfg)
}

// checkConnectors runs each enabled connector's own validation, as the host
// would at start-up, and reports every problem at its file line:
//
//   - a built-in connector (no command:) must be registered in this binary,
//     and its Configure must accept the connector's config: block (in
//     process: Configure only decodes and checks settings);
//   - a built-in connector that takes no configuration must have none;
//   - an external connector's command must exist and match its sha256 (its
//     Configure runs only when the hub launches it).
func checkConnectors(cfg *config.Config) error {
	var probs config.Errors
	for _, id := range cfg.ConnectorIDs() {
		cn := cfg.Connectors[id]
		key := "connectors." + id
		if cn.Command != "" {
			if err := checkPluginBinary(cn.Command, cn.SHA256); err != nil {
				probs = append(probs, cfg.Problem(key+".command", err, "%v", err))
			}
			continue
		}
		info, ok := sdk.Lookup(id)
		if !ok {
			probs = append(probs, cfg.Problem(key, nil,
				"unknown connector %q: no built-in connector has this id (built in: %s); an external connector needs command: and sha256:",
				id, strings.Join(sdk.Registered(), ", ")))
			continue
		}
		raw, err := nodeJSON(&cn.Config)
		if err != nil {
			probs = append(probs, cfg.Problem(key+".config", err, "%v", err))
			continue
		}
		c := info.New()
		conf, ok := c.(sdk.Configurer)
		if !ok {
			if raw != nil {
				probs = append(probs, cfg.Problem(key+".config", nil, "connector %q takes no configuration; remove config:", id))
			}
			continue
		}
		if err := conf.Configure(raw); err != nil {
			probs = append(probs, cfg.Problem(key+".config"+locateConfigKey(&cn.Config, err), err, "%s", configureMsg(err)))
		}
		if cl, ok := c.(interface{ Close() error }); ok {
			_ = cl.Close()
		}
	}
	if len(probs) == 0 {
		return nil
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	return probs
}

// configureMsg is a Configure error's message without the errs code prefix.
func configureMsg(err error) string {
	var e *errs.Error
	if errors.As(err, &e) && e.Msg != "" {
		return e.Msg
	}
	return err.Error()
}

// checkPluginBinary checks that an external plugin's binary exists and
// matches its configured hex SHA-256 (the host refuses it otherwise).
func checkPluginBinary(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("plugin binary: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("plugin binary: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, want) {
		return fmt.Errorf("plugin binary %s has sha256 %s, but sha256: says %s", path, got, want)
	}
	return nil
}

// locateConfigKey finds the key of a connector's config: block that a
// Configure error is about, as a path suffix (".controllers[0].flow", or ""
// for the block itself): the error's Target when it names a key of the
// block, else the longest key path the message mentions (word-bounded, e.g.
// "maxBatch must be …"), else a key whose last name the message quotes
// (encoding/json's `unknown field "engineCode"`).
func locateConfigKey(n *yaml.Node, err error) string {
	var paths []string
	flattenKeys(n, "", &paths)
	if len(paths) == 0 {
		return ""
	}
	var e *errs.Error
	if errors.As(err, &e) && e.Target != "" {
		for _, p := range paths {
			if p == e.Target {
				return "." + p
			}
		}
	}
	msg := err.Error()
	best := ""
	for _, p := range paths {
		if len(p) > len(best) && mentions(msg, p) {
			best = p
		}
	}
	if best != "" {
		return "." + best
	}
	for _, p := range paths {
		last := p[strings.LastIndexAny(p, ".]")+1:]
		if last != "" && strings.Contains(msg, `"`+last+`"`) {
			return "." + p
		}
	}
	return ""
}

// mentions reports whether msg contains key as a whole word.
func mentions(msg, key string) bool {
	return regexp.MustCompile(`(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(key) + `($|[^A-Za-z0-9_])`).MatchString(msg)
}

// flattenKeys lists the key paths under a mapping/sequence node in the
// loader's spelling ("a.b", "list[0].c").
func flattenKeys(n *yaml.Node, path string, out *[]string) {
	if n == nil {
		return
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			flattenKeys(c, path, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			*out = append(*out, p)
			flattenKeys(n.Content[i+1], p, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			*out = append(*out, p)
			flattenKeys(c, p, out)
		}
	}
}
