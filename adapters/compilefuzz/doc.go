// Package compilefuzz holds the differential fuzz target of the store query
// compilers (compile_fuzz_test.go): a filter parsed from OData $filter or
// $query JSON is compiled by the SQLite compiler (adapters/sqlite) and the
// Mongo compiler (adapters/mongo); the SQLite result on a fixed dataset must
// equal plugins/sdk/sdktest's in-memory evaluator. The package has no
// non-test code; `make fuzz` runs the target.
package compilefuzz
