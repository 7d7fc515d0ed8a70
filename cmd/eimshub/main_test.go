package main

import (
	"os"
	"testing"

	"github.com/eimshub/eimshub/core/identity"
)

// TestMain lets the test binary stand in for the hub binary when the plugin
// host re-executes itself as `eimshub connector ID` (go-plugin's helper
// process pattern): built-in connectors then run as real plugin processes
// in the end-to-end tests.
func TestMain(m *testing.M) {
	if len(os.Args) >= 3 && os.Args[1] == "connector" {
		os.Exit(runConnectorCmd(os.Args[2:], os.Stderr))
	}
	// Seeded passwords and secrets hashed at bcrypt's minimum cost: at cost
	// 10 under the race detector each login takes seconds on a loaded machine.
	identity.UseFastHashesInTests()
	os.Exit(m.Run())
}
