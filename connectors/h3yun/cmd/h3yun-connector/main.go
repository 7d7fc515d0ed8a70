// Command h3yun-connector runs the H3Yun connector as a standalone plugin
// process (the hub normally runs it as `eimshub connector h3yun`).
package main

import (
	"github.com/eimshub/eimshub/connectors/h3yun"
	"github.com/eimshub/eimshub/plugins/sdk"
)

func main() { sdk.Serve(h3yun.New) }
