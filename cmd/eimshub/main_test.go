package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestMain builds the small connector binary (cmd/eimshub-connector) once
// and puts it next to the test binary, where the hub looks for it: the
// end-to-end tests then run built-in connectors from it, as a hub built by
// `make build` does. The test binary also stands in for the hub binary when
// the plugin host falls back to re-executing itself as `eimshub connector
// ID` (go-plugin's helper process pattern; TestBuiltinConnectorsSelf).
func TestMain(m *testing.M) {
	if len(os.Args) >= 3 && os.Args[1] == "connector" {
		os.Exit(runConnectorCmd(os.Args[2:], os.Stderr))
	}
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
