// Package builtin compiles the built-in connectors into the eimshub and
// eimshub-connector binaries: each is a blank import of a connector package
// whose init calls sdk.Register. The hub launches a built-in connector as
// `eimshub-connector ID` (or `eimshub connector ID` when the small binary is
// absent), or calls it in-process with isolation: inproc; cmd/eimshub and
// cmd/eimshub-connector import this package for its side effects.
//
// To add a connector, add its blank import here, e.g.
//
//	_ "github.com/eimshub/eimshub/connectors/h3yun"
//
// The SDK's example
// connector (plugins/sdk/example) is deliberately not built in: it is a
// reference and a test plugin, not a dialect.
package builtin

import (
	_ "github.com/eimshub/eimshub/connectors/dabei"   // Dabei (搭贝) open API
	_ "github.com/eimshub/eimshub/connectors/eoffice" // e-office 10 (泛微) open API
	_ "github.com/eimshub/eimshub/connectors/h3yun"   // H3Yun (氚云) OpenApi
)
