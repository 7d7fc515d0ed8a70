package example_test

import (
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk/example"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

func TestGolden(t *testing.T) { sdktest.RunGolden(t, example.New(), "testdata") }

func TestConformance(t *testing.T) {
	sdktest.Conformance(t, example.New(), sdktest.SkipHandle("GET /panic"))
}
