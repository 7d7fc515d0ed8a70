package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eimshub/eimshub/adapters/redis/redistest"
)

// serveFails runs `eimshub serve` on yml and returns the error it stops
// with and its log; the hub must not start.
func serveFails(t *testing.T, yml string, env map[string]string) (error, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	all := map[string]string{"EIMSHUB_LISTEN": "127.0.0.1:0", "EIMSHUB_DATA_DIR": filepath.Join(dir, "data")}
	for k, v := range env {
		all[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- serve(ctx, path, logs, func(k string) string { return all[k] }, ready) }()
	select {
	case <-ready:
		cancel()
		<-done
		t.Fatalf("hub started; want an error\nlogs:\n%s", logs.String())
	case err := <-done:
		if err == nil {
			t.Fatalf("serve returned nil; want an error\nlogs:\n%s", logs.String())
		}
		return err, logs.String()
	case <-time.After(60 * time.Second):
		t.Fatalf("serve neither started nor failed within 60s\nlogs:\n%s", logs.String())
	}
	return nil, ""
}

func TestHostOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"redis://127.0.0.1:6379/0":                                  "redis://127.0.0.1:6379/0",
		"redis://:s3cret@redis:6379/2":                              "redis://redis:6379/2",
		"rediss://user:s3cret@redis:6380":                           "rediss://redis:6380",
		"redis://:p@ss/w0rd@redis:6379/0":                           "redis://redis:6379/0",
		"mongodb://eims:s3cret@m1,m2,m3/?replicaSet=rs0":            "mongodb://m1,m2,m3/",
		"mongodb+srv://eims:s3cret@cluster.example.com/EIMS?tls=1":  "mongodb+srv://cluster.example.com/EIMS",
		"mongodb://m1/?authMechanismProperties=AWS_SESSION_TOKEN:x": "mongodb://m1/",
		"mongodb://eims:pa?s3cret@m1/":                              "mongodb://(hidden)",
		"not a url s3cret":                                          "(hidden)",
	} {
		if got := hostOf(in); got != want || strings.Contains(got, "s3cret") {
			t.Errorf("hostOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestConfiguredSigningKeyFileMissing: a configured signingKeyFile that does
// not exist stops the hub (it is not generated: the instances would sign
// with different keys); only the default <dataDir> path is generated.
func TestConfiguredSigningKeyFileMissing(t *testing.T) {
	t.Parallel()
	key := filepath.Join(t.TempDir(), "secrets", "signing.key")
	err, _ := serveFails(t, "auth:\n  signingKeyFile: "+key+"\n", nil)
	if !strings.Contains(err.Error(), "auth.signingKeyFile "+key) || !strings.Contains(err.Error(), "never generated") {
		t.Fatalf("err = %v", err)
	}
	if _, serr := os.Stat(key); !os.IsNotExist(serr) {
		t.Fatalf("the configured key was created: %v", serr)
	}
}

// TestSplitDataRefusedAtServe: the embedded store with Redis does not
// start unless storage.allowSplitData is set; with it, the hub warns.
// The start-up log names the Redis host it uses, never the password.
func TestSplitDataRefusedAtServe(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	const pw = "s3cret-Pw"
	if err := rs.Client().ConfigSet(context.Background(), "requirepass", pw).Err(); err != nil {
		t.Fatal(err)
	}
	url := "redis://:" + pw + "@" + rs.Addr() + "/0"
	err, logs := serveFails(t, "dataDir: ./d\n", map[string]string{"EIMSHUB_REDIS_URL": url})
	if !strings.Contains(err.Error(), "$EIMSHUB_REDIS_URL: cache.url: a Redis cache with the embedded SQLite store") ||
		strings.Contains(err.Error()+logs, pw) {
		t.Fatalf("err = %v\nlogs:\n%s", err, logs)
	}

	_, l := startServe(t, "storage:\n  allowSplitData: true\n", map[string]string{"EIMSHUB_REDIS_URL": url})
	log := l.String()
	host := "redis://" + rs.Addr() + "/0"
	for _, want := range []string{"SPLIT DATA", `msg="connecting to Redis" host=` + host, "cacheAt=" + host} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, pw) {
		t.Errorf("log shows the Redis password:\n%s", log)
	}
}

// TestUnreachableBackendsFailFast: an unreachable MongoDB or Redis stops
// the start-up after its connectTimeout with an error naming the host,
// never the credentials; the log said what the hub waited for first.
func TestUnreachableBackendsFailFast(t *testing.T) {
	t.Parallel()
	const pw = "hunter2-Pw"
	tests := []struct {
		name, yml, want, waiting string
	}{
		{"mongodb", "storage:\n  url: mongodb://eims:" + pw + "@127.0.0.1:1/?replicaSet=rs0\n  mongo:\n    connectTimeout: 1s\n",
			"MongoDB at mongodb://127.0.0.1:1/ did not answer within 1s (storage.mongo.connectTimeout)",
			`msg="connecting to MongoDB" host=mongodb://127.0.0.1:1/ database=EIMS timeout=1s`},
		{"redis", "storage:\n  allowSplitData: true\ncache:\n  url: redis://:" + pw + "@127.0.0.1:1/0\n  redis:\n    connectTimeout: 1s\n",
			"open Redis cache at redis://127.0.0.1:1/0 (cache.redis.connectTimeout 1s)",
			`msg="connecting to Redis" host=redis://127.0.0.1:1/0 timeout=1s`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err, logs := serveFails(t, tc.yml, nil)
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(logs, tc.waiting) {
				t.Fatalf("err = %v, want %q\nlogs:\n%s", err, tc.want, logs)
			}
			if strings.Contains(err.Error()+logs, pw) {
				t.Fatalf("credentials shown: %v\n%s", err, logs)
			}
		})
	}
}
