// Command example-connector runs the example connector as a plugin process.
package main

import (
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/example"
)

func main() { sdk.Serve(example.New) }
