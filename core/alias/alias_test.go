package alias_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/alias"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/store"
)

func open(t *testing.T) (*alias.Service, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return alias.New(st), st
}

func TestRoundTripAndUniqueness(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	if err := s.Set(ctx, "t1", "eoffice", "user", "WV00000418", "u1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "t1", "eoffice", "user", "WV00000418", "u1"); err != nil {
		t.Fatalf("same pair again: %v", err)
	}
	for _, c := range []struct{ ext, id string }{{"WV00000418", "u2"}, {"WV00000419", "u1"}} {
		if err := s.Set(ctx, "t1", "eoffice", "user", c.ext, c.id); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("Set(%s, %s) = %v, want Conflict", c.ext, c.id, err)
		}
	}
	hub, err := s.ToHub(ctx, "t1", "eoffice", "user", []string{"WV00000418", "WV404"})
	if err != nil || len(hub) != 1 || hub["WV00000418"] != "u1" {
		t.Fatalf("ToHub = %v, %v", hub, err)
	}
	ext, err := s.ToExt(ctx, "t1", "eoffice", "user", []string{"u1", "u9"})
	if err != nil || len(ext) != 1 || ext["u1"] != "WV00000418" {
		t.Fatalf("ToExt = %v, %v", ext, err)
	}
	// Other tenant, namespace or kind: nothing.
	for _, k := range [][3]string{{"t2", "eoffice", "user"}, {"t1", "h3yun", "user"}, {"t1", "eoffice", "department"}} {
		if m, err := s.ToHub(ctx, k[0], k[1], k[2], []string{"WV00000418"}); err != nil || len(m) != 0 {
			t.Errorf("%v sees %v, %v", k, m, err)
		}
	}
	// The same external id in another tenant is independent.
	if err := s.Set(ctx, "t2", "eoffice", "user", "WV00000418", "u7"); err != nil {
		t.Fatal(err)
	}
	// Bad input changes nothing.
	for _, bad := range [][2]string{{"Bad NS", "user"}, {"eoffice", ""}, {"eoffice", "$where"}} {
		if _, err := s.ToHub(ctx, "t1", bad[0], bad[1], []string{"x"}); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if _, err := s.ToHub(ctx, "", "eoffice", "user", nil); errs.CodeOf(err) != errs.Unauthorized {
		t.Errorf("no tenant: %v", err)
	}
}

func TestAllocateSkipsTakenAndKeepsExisting(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	seq := alias.Sequence{Prefix: "WV", Width: 8}
	// The admin seeded WV00000002 for u_admin.
	if err := s.Set(ctx, "t1", "eoffice", "user", "WV00000002", "u_admin"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Allocate(ctx, "t1", "eoffice", "user", []string{"a", "b", "u_admin", "a"}, seq)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "WV00000001", "b": "WV00000003", "u_admin": "WV00000002"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Allocate = %v, want %v", got, want)
	}
	again, err := s.Allocate(ctx, "t1", "eoffice", "user", []string{"b", "c"}, seq)
	if err != nil || again["b"] != "WV00000003" || again["c"] != "WV00000004" {
		t.Fatalf("second Allocate = %v, %v", again, err)
	}
	if _, err := s.Allocate(ctx, "t1", "eoffice", "user", []string{"x"}, alias.Sequence{Prefix: "W V"}); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("bad prefix: %v", err)
	}
}

// Many goroutines allocate at once: every hub id gets exactly one alias and
// no external id is handed out twice.
func TestAllocateConcurrent(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	seq := alias.Sequence{Prefix: "WV", Width: 8}
	const workers, per = 8, 5
	results := make([]map[string]string, workers)
	errsOut := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := []string{"shared"}
			for i := range per {
				ids = append(ids, fmt.Sprintf("w%d-%d", w, i))
			}
			results[w], errsOut[w] = s.Allocate(ctx, "t1", "eoffice", "user", ids, seq)
		}()
	}
	wg.Wait()
	byExt := map[string]string{}
	shared := ""
	for w, r := range results {
		if errsOut[w] != nil {
			t.Fatalf("worker %d: %v", w, errsOut[w])
		}
		for id, ext := range r {
			if prev, ok := byExt[ext]; ok && prev != id {
				t.Fatalf("%s handed to %s and %s", ext, prev, id)
			}
			byExt[ext] = id
			if id == "shared" {
				if shared != "" && shared != ext {
					t.Fatalf("shared got %s and %s", shared, ext)
				}
				shared = ext
			}
		}
	}
	if len(byExt) != workers*per+1 {
		t.Fatalf("%d aliases, want %d", len(byExt), workers*per+1)
	}
}
