// Command eimshub-connector serves one built-in connector as a go-plugin
// process; the hub runs it as `eimshub-connector ID` (see docs/PLUGINS.md).
// It links only the SDK and the built-in connectors — no HTTP framework, no
// store or cache driver — so a connector process is a fraction of the hub's
// size and memory. `eimshub connector ID` does the same from the hub binary
// and is the fallback when this binary is absent.
package main

import (
	"fmt"
	"os"
	"strings"

	_ "github.com/eimshub/eimshub/connectors/builtin" // registers the built-in connectors
	"github.com/eimshub/eimshub/plugins/sdk"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) != 1 || args[0] == "" || strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(os.Stderr, "usage: eimshub-connector ID   (built in: %s)\n", strings.Join(sdk.Registered(), ", "))
		return 2
	}
	if err := sdk.ServeBuiltin(args[0]); err != nil {
		fmt.Fprintln(os.Stderr, "eimshub-connector:", err)
		return 1
	}
	return 0
}
