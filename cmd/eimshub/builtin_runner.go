package main

// How the hub runs its built-in connectors as plugin processes: from the
// small eimshub-connector binary (cmd/eimshub-connector, which links only the
// plugin SDK and the connectors) when it is configured or sits next to the
// hub's executable, else by re-executing the hub as `eimshub connector ID`.

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"

	"github.com/eimshub/eimshub/config"
	"github.com/eimshub/eimshub/core/errs"
)

const (
	// connectorBinary is the small binary's file name, looked up in the
	// directory of the hub's executable.
	connectorBinary = "eimshub-connector"
	// connectorMainPath is the main package path the small binary carries
	// in its build info.
	connectorMainPath = hubModule + "/cmd/" + connectorBinary
)

// builtinRunner is what the plugin host needs to launch built-in connectors.
type builtinRunner struct {
	// Path is the eimshub-connector binary; "" re-executes the hub
	// (the host's default SelfCommand).
	Path string
	// SHA256 is Path's checksum, taken once at start; every launch verifies it.
	SHA256 []byte
}

// command runs built-in connector id from the small binary.
func (r builtinRunner) command(id string) (*exec.Cmd, error) {
	return exec.Command(r.Path, id), nil
}

// resolveBuiltinRunner picks the binary for built-in connectors from
// builtinConnectors (see config.BuiltinConnectors) and the hub's executable
// exe, and logs which one runs. A configured binary that is missing, not
// executable or not matching the configured sha256 is an error; an
// eimshub-connector found next to exe that is unusable or from another build
// of the hub is skipped with a warning, and the hub re-executes itself.
func resolveBuiltinRunner(bc config.BuiltinConnectors, exe string, self *debug.BuildInfo, log *slog.Logger) (builtinRunner, error) {
	selfMsg := "built-in connectors run from the hub binary"
	selfCmd := exe + " connector ID"
	path, configured := bc.Command, bc.Command != ""
	switch bc.Command {
	case "self":
		log.Info(selfMsg, "command", selfCmd, "reason", "builtinConnectors.command is self")
		return builtinRunner{}, nil
	case "":
		path = filepath.Join(filepath.Dir(exe), connectorBinary)
	}
	bad := func(format string, args ...any) (builtinRunner, error) {
		msg := fmt.Sprintf(format, args...)
		if configured {
			return builtinRunner{}, errs.Newf(errs.Invalid, "builtinConnectors.command %s: %s", path, msg).WithTarget("builtinConnectors.command")
		}
		log.Warn(selfMsg, "command", selfCmd, "reason", connectorBinary+" next to the hub is unusable: "+msg, "path", path)
		return builtinRunner{}, nil
	}
	st, err := os.Stat(path)
	switch {
	case err != nil && !configured && os.IsNotExist(err):
		log.Info(selfMsg, "command", selfCmd, "reason", "no "+connectorBinary+" next to the hub executable", "looked_for", path)
		return builtinRunner{}, nil
	case err != nil:
		return bad("%v", err)
	case !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0:
		return bad("not an executable file")
	}
	sum, err := fileSHA256Sum(path)
	if err != nil {
		return bad("%v", err)
	}
	if bc.SHA256 != "" {
		if want, _ := hex.DecodeString(bc.SHA256); !bytes.Equal(sum, want) { // validated by config
			return builtinRunner{}, errs.Newf(errs.Invalid, "builtinConnectors: %s has sha256 %x, configured %s", path, sum, bc.SHA256).WithTarget("builtinConnectors.sha256")
		}
	}
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return bad("not a Go binary: %v", err)
	}
	if why := otherBuild(bi, self); why != "" {
		if !configured {
			return bad("%s (rebuild both with make build)", why)
		}
		log.Warn("builtinConnectors.command is from another build of the hub", "path", path, "why", why)
	}
	log.Info("built-in connectors run from "+connectorBinary, "command", path+" ID", "sha256", hex.EncodeToString(sum))
	return builtinRunner{Path: path, SHA256: sum}, nil
}

// otherBuild says why the connector binary bi does not belong with the hub
// build self, or "" when it does or cannot be told (a hub without VCS
// stamps, e.g. under go test or go run).
func otherBuild(bi, self *debug.BuildInfo) string {
	if bi.Path != connectorMainPath {
		return fmt.Sprintf("it is %s, not %s", bi.Path, connectorMainPath)
	}
	if self == nil {
		return ""
	}
	rev, selfRev := vcsSetting(bi, "vcs.revision"), vcsSetting(self, "vcs.revision")
	if rev == "" || selfRev == "" {
		return ""
	}
	if rev != selfRev || vcsSetting(bi, "vcs.modified") != vcsSetting(self, "vcs.modified") {
		return fmt.Sprintf("it was built from revision %s (modified %s), the hub from %s (modified %s)",
			rev, vcsSetting(bi, "vcs.modified"), selfRev, vcsSetting(self, "vcs.modified"))
	}
	return ""
}

func vcsSetting(bi *debug.BuildInfo, key string) string {
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

func fileSHA256Sum(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
