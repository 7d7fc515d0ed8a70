package host_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/plugins/host"
	"github.com/eimshub/eimshub/plugins/sdk/example"
)

// Options.BuiltinEnv reaches a built-in connector process; the connector's
// configured env and the hub's own environment win over it (the hub passes
// GOGC this way, and an operator's GOGC must stay in charge).
func TestBuiltinEnv(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), "environ")
	t.Setenv(envFileVar, envFile) // the plugin process writes its environment there
	t.Setenv("EIMSHUB_T_C", "hub")
	f := newFixture(t, []host.Config{{ID: example.ID, Enabled: true, Env: []string{"EIMSHUB_T_B=config"}}},
		host.Options{BuiltinEnv: []string{"EIMSHUB_T_A=builtin", "EIMSHUB_T_B=builtin", "EIMSHUB_T_C=builtin"}}, nil)
	s := f.status(t, example.ID)
	if s.State != host.StateRunning || s.PID == 0 {
		t.Fatalf("status = %+v", s)
	}
	raw, err := os.ReadFile(envFile)
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
