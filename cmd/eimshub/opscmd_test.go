package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eimshub/eimshub/adapters/redis/redistest"
	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/identity"
)

const exampleConfig = "../../config/eimshub.example.yaml"

// TestBackupWhileWriting: `eimshub backup` runs while writers keep
// creating records through the API; every record acknowledged before the
// backup started is in the copy, the copy passes PRAGMA integrity_check,
// and a hub started on a new data directory restored from it serves them.
func TestBackupWhileWriting(t *testing.T) {
	dataDir := t.TempDir()
	h := startHub(t, dataDir, nil)
	tok, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")

	var (
		mu    sync.Mutex
		acked []string
		stop  atomic.Bool
		wg    sync.WaitGroup
		n     atomic.Int64
	)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				r := h.jsonReq("POST", "/api/v1/contract", tok, map[string]any{
					"title": fmt.Sprintf("w%d-%d", w, i), "party": "ACME", "amount": i})
				if r.status == 429 { // the client's 100-S budget: not acknowledged, try again
					time.Sleep(50 * time.Millisecond)
					continue
				}
				if r.status != 200 && r.status != 201 {
					t.Errorf("create: %d %s", r.status, r.body)
					return
				}
				id, _ := r.json(t)["id"].(string)
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
				n.Add(1)
			}
		})
	}
	for n.Load() < 50 { // writers are running
		if t.Failed() {
			t.FailNow()
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()

	out := filepath.Join(t.TempDir(), "eimshub-backup.db")
	env := func(k string) string {
		return map[string]string{"EIMSHUB_DATA_DIR": dataDir}[k]
	}
	var so, se strings.Builder
	if code := run(context.Background(), []string{"backup", "--config", exampleConfig, out}, &so, &se, env); code != 0 {
		t.Fatalf("backup exit %d: %s", code, se.String())
	}
	written := n.Load()
	stop.Store(true)
	wg.Wait()
	if written <= int64(len(before)) {
		t.Logf("note: no write completed during the backup (%d before, %d after)", len(before), written)
	}
	if err := sqlite.IntegrityCheck(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}
	// A second backup to the same path is refused (nothing overwritten).
	if code := run(context.Background(), []string{"backup", "--config", exampleConfig, out}, io.Discard, io.Discard, env); code == 0 {
		t.Fatal("backup over an existing file succeeded")
	}
	h.stop()

	// Restore: a new data directory holding only the copy (no WAL, no key).
	restored := t.TempDir()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, "eimshub.db"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := startHub(t, restored, nil)
	tok2, _ := r.login("demo-client", "demo-secret", "admin", "admin-pass")
	for _, id := range before {
		mustStatus(t, "record "+id+" acknowledged before the backup", r.jsonReq("GET", "/api/v1/contract/"+id, tok2, nil), 200)
	}
	t.Logf("%d records acknowledged before the backup, %d by its end; all of the former restored", len(before), written)
}

// TestUserUnlock: five wrong passwords lock admin (a distinct message and
// Retry-After); `eimshub user unlock` against the same Redis clears it
// while the hub runs, and the right password works again at once. With
// the in-process cache the command explains that a restart clears it.
func TestUserUnlock(t *testing.T) {
	rs := redistest.Start(t)
	dataDir := t.TempDir()
	env := map[string]string{"EIMSHUB_REDIS_URL": rs.URL(), "EIMSHUB_DATA_DIR": dataDir}
	h := startHub(t, dataDir, env)
	login := func(pass string) resp {
		return h.form("/connect/token", url.Values{"grant_type": {"password"}, "client_id": {"demo-client"},
			"client_secret": {"demo-secret"}, "username": {"admin"}, "password": {pass}})
	}
	for range 5 {
		mustStatus(t, "wrong password", login("wrong"), 400)
	}
	locked := login("admin-pass")
	mustStatus(t, "locked", locked, 400)
	if d, _ := locked.json(t)["error_description"].(string); d != identity.DescLocked || locked.header.Get("Retry-After") == "" {
		t.Fatalf("locked answer: %s, Retry-After %q", locked.body, locked.header.Get("Retry-After"))
	}

	getenv := func(k string) string { return env[k] }
	var so, se strings.Builder
	if code := run(context.Background(), []string{"user", "unlock", "--config", splitDataConfig(t), "demo", "admin"}, &so, &se, getenv); code != 0 {
		t.Fatalf("unlock exit %d: %s", code, se.String())
	}
	if !strings.Contains(so.String(), "unlocked user admin") || !strings.Contains(so.String(), "127.0.0.1") {
		t.Errorf("unlock output: %q", so.String())
	}
	mustStatus(t, "login after unlock", login("admin-pass"), 200)

	// In-process cache: nothing to reach from outside the hub; say so.
	so.Reset()
	se.Reset()
	inproc := func(k string) string { return map[string]string{"EIMSHUB_DATA_DIR": dataDir}[k] }
	if code := run(context.Background(), []string{"user", "unlock", "--config", splitDataConfig(t), "demo", "admin"}, &so, &se, inproc); code != 1 ||
		!strings.Contains(se.String(), "restart the hub") {
		t.Fatalf("in-process unlock: exit %d, %q", code, se.String())
	}
}
