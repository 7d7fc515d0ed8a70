package host_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/example"
	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
)

// The test binary doubles as the plugin (go-plugin's helperProcess
// pattern): the host re-executes it with EIMSHUB_TEST_PLUGIN set.
const pluginEnv = "EIMSHUB_TEST_PLUGIN"

func TestMain(m *testing.M) {
	switch os.Getenv(pluginEnv) {
	case "":
		identity.UseFastHashesInTests() // bcrypt cost 10 under -race: seconds per hash
		os.Exit(m.Run())
	case "example":
		writeEnvFile()
		sdk.Serve(example.New)
	case "v2": // a plugin built against a future contract
		hs := sdk.Handshake
		hs.ProtocolVersion = sdk.ProtocolVersion + 1
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  hs,
			VersionedPlugins: map[int]plugin.PluginSet{int(hs.ProtocolVersion): {sdk.PluginName: &sdk.GRPCPlugin{New: example.New}}},
			GRPCServer:       sdk.GRPCServer,
			Logger:           hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true}),
		})
	case "impostor": // serves the example connector but is configured under another id
		sdk.Serve(example.New)
	default:
		fmt.Fprintln(os.Stderr, "unknown test plugin")
		os.Exit(2)
	}
	os.Exit(0)
}

// selfCommand runs this test binary as built-in plugin id.
func selfCommand(mode string) func(string) (*exec.Cmd, error) {
	return func(string) (*exec.Cmd, error) {
		cmd := exec.Command(os.Args[0])
		cmd.Env = []string{pluginEnv + "=" + mode}
		return cmd, nil
	}
}

// testBinarySHA256 is the hex SHA-256 of this test binary.
func testBinarySHA256(t *testing.T) string {
	t.Helper()
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// envFileVar names a file the example plugin process writes its whole
// environment to (NUL-separated, as /proc/PID/environ) before it serves:
// what TestBuiltinEnv checks, on any OS.
const envFileVar = "EIMSHUB_TEST_ENVFILE"

func writeEnvFile() {
	if p := os.Getenv(envFileVar); p != "" {
		if err := os.WriteFile(p, []byte(strings.Join(os.Environ(), "\x00")), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "write env file:", err)
			os.Exit(2)
		}
	}
}
