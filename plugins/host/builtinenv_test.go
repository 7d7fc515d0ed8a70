package host_test

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/plugins/host"
	"github.com/eimshub/eimshub/plugins/sdk/example"
)

// Options.BuiltinEnv reaches a built-in connector process; the connector's
// configured env and the hub's own environment win over it (the hub passes
// GOGC this way, and an operator's GOGC must stay in charge).
func TestBuiltinEnv(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/PID/environ")
	}
	t.Setenv("EIMSHUB_T_C", "hub")
	f := newFixture(t, []host.Config{{ID: example.ID, Enabled: true, Env: []string{"EIMSHUB_T_B=config"}}},
		host.Options{BuiltinEnv: []string{"EIMSHUB_T_A=builtin", "EIMSHUB_T_B=builtin", "EIMSHUB_T_C=builtin"}}, nil)
	s := f.status(t, example.ID)
	if s.State != host.StateRunning || s.PID == 0 {
		t.Fatalf("status = %+v", s)
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(s.PID) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, kv := range strings.Split(string(raw), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "EIMSHUB_T_") {
			got[k] = append(got[k], v)
		}
	}
	for k, want := range map[string]string{"EIMSHUB_T_A": "builtin", "EIMSHUB_T_B": "config", "EIMSHUB_T_C": "hub"} {
		if v := got[k]; len(v) != 1 || v[0] != want {
			t.Errorf("%s in the plugin's environment = %q, want [%q]", k, v, want)
		}
	}
}
