// Command dabei-connector runs the Dabei connector as a standalone plugin
// process (the hub normally runs it as `eimshub-connector dabei`).
package main

import (
	"github.com/eimshub/eimshub/connectors/dabei"
	"github.com/eimshub/eimshub/plugins/sdk"
)

func main() { sdk.Serve(dabei.New) }
