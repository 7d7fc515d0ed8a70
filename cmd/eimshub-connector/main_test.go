package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinksOnlyTheSDK keeps the plugin binary small: it must not link the
// hub's HTTP framework, store or cache drivers, or the core services.
func TestLinksOnlyTheSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps gave %d packages: %s", len(deps), out)
	}
	forbidden := []string{
		"github.com/gofiber/", "github.com/valyala/fasthttp", // HTTP framework
		"go.mongodb.org/", "modernc.org/sqlite", "github.com/redis/", // drivers
		"github.com/ulule/limiter", "github.com/dop251/goja", // limiter, dataflow sandbox
		"github.com/eimshub/eimshub/adapters/", "github.com/eimshub/eimshub/plugins/host",
		"github.com/eimshub/eimshub/core/httpapi", "github.com/eimshub/eimshub/core/entity",
		"github.com/eimshub/eimshub/core/identity", "github.com/eimshub/eimshub/core/store",
		"github.com/eimshub/eimshub/config",
	}
	seen := map[string]bool{}
	for _, d := range deps {
		seen[d] = true
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) {
				t.Errorf("eimshub-connector links %s", d)
			}
		}
	}
	for _, want := range []string{"github.com/eimshub/eimshub/plugins/sdk", "github.com/eimshub/eimshub/connectors/h3yun"} {
		if !seen[want] {
			t.Errorf("eimshub-connector does not link %s", want)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, 2}, {[]string{""}, 2}, {[]string{"-h"}, 2}, {[]string{"a", "b"}, 2},
		{[]string{"no-such-connector"}, 1},
	} {
		if got := run(tc.args); got != tc.code {
			t.Errorf("run(%q) = %d, want %d", tc.args, got, tc.code)
		}
	}
}
