package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/example"
)

// TestMain lets the test binary stand in for the hub binary when the plugin
// host re-executes itself as `eimshub connector ID` (go-plugin's helper
// process pattern; TestBuiltinConnectorsSelf), for the SDK's example
// connector as an external plugin, and for the hub's CLI (runMainEnv). It
// builds the small connector binary (cmd/eimshub-connector) once and puts it
// next to the test binary, where the hub looks for it: the end-to-end tests
// then run built-in connectors from it, as a hub built by `make build` does.
// runMainEnv makes the test binary run the hub's CLI (main's run) instead
// of the tests, so CLI tests need no separate build of the hub.
const runMainEnv = "EIMSHUB_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if len(os.Args) >= 3 && os.Args[1] == "connector" {
		os.Exit(runConnectorCmd(os.Args[2:], os.Stderr))
	}
	// Launched as an external plugin command (no arguments, go-plugin's
	// handshake cookie set): serve the SDK's example connector, so the
	// external-plugin tests need no separate build of it.
	if len(os.Args) == 1 && os.Getenv(sdk.Handshake.MagicCookieKey) == sdk.Handshake.MagicCookieValue {
		sdk.Serve(example.New)
		os.Exit(0)
	}
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
	}
	// Seeded passwords and secrets hashed at bcrypt's minimum cost: at cost
	// 10 under the race detector each login takes seconds on a loaded machine.
	identity.UseFastHashesInTests()
	bin, err := buildConnectorBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.Remove(bin)
	os.Exit(code)
}

// smallBinary is the eimshub-connector TestMain built, next to the test binary.
var smallBinary string

func buildConnectorBinary() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	smallBinary = filepath.Join(filepath.Dir(exe), connectorBinary)
	cmd := exec.Command("go", "build", "-o", smallBinary, "./cmd/"+connectorBinary)
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/%s: %v\n%s", connectorBinary, err, out)
	}
	return smallBinary, nil
}
