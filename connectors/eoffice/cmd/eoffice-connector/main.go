// Command eoffice-connector runs the e-office connector as a standalone
// plugin process (the hub normally runs it as `eimshub-connector eoffice`).
package main

import (
	"github.com/eimshub/eimshub/connectors/eoffice"
	"github.com/eimshub/eimshub/plugins/sdk"
)

func main() { sdk.Serve(eoffice.New) }
