package ids_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/ids"
	"github.com/eimshub/eimshub/core/store"
)

func TestGUIDRoundTrip(t *testing.T) {
	for range 1000 {
		id := store.NewID()
		g := ids.GUID(id)
		if !ids.IsGUID(g) || g == id {
			t.Fatalf("GUID(%s) = %s", id, g)
		}
		if g != ids.GUID(id) {
			t.Fatal("GUID is not stable")
		}
		for _, spelling := range []string{g, strings.ToUpper(g), "{" + g + "}", "{" + strings.ToUpper(g) + "}"} {
			if got := ids.FromGUID(spelling); got != id {
				t.Fatalf("FromGUID(%s) = %s, want %s", spelling, got, id)
			}
		}
	}
}

func TestForeignIDsPassThrough(t *testing.T) {
	id := "65a1f0c2e4b0a1b2c3d4e5f6"
	g := ids.GUID(id)
	tampered := g[:len(g)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", g[len(g)-1])+1)%16])
	for _, s := range []string{
		"", "r1", "aea4d7a7-d162-4c77-9c44-7bd9cb8316a5", // a foreign GUID (checksum does not match)
		tampered, "{" + g, g + "}", strings.ReplaceAll(g, "-", ""), "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
		"65A1F0C2E4B0A1B2C3D4E5F6", // not a hub id (upper case): not spelled as a GUID
	} {
		if got := ids.FromGUID(s); got != s {
			t.Errorf("FromGUID(%q) = %q, want it unchanged", s, got)
		}
		if got := ids.GUID(s); got != s && s != id {
			t.Errorf("GUID(%q) = %q, want it unchanged", s, got)
		}
	}
	if !ids.IsGUID("aea4d7a7-d162-4c77-9c44-7bd9cb8316a5") || ids.IsGUID("r1") {
		t.Error("IsGUID")
	}
}

func FuzzFromGUID(f *testing.F) {
	f.Add("aea4d7a7-d162-4c77-9c44-7bd9cb8316a5")
	f.Add(ids.GUID("65a1f0c2e4b0a1b2c3d4e5f6"))
	f.Fuzz(func(t *testing.T, s string) {
		id := ids.FromGUID(s)
		if id != s && ids.GUID(id) != strings.ToLower(strings.Trim(s, "{}")) {
			t.Fatalf("FromGUID(%q) = %q, whose GUID is %q", s, id, ids.GUID(id))
		}
	})
}

// TestGUIDSpellingIsStable: spellings are shown to clients and stored by
// them; they never change (the checksum is the first 4 bytes of
// SHA-256("eimshub-guid:" + id)).
func TestGUIDSpellingIsStable(t *testing.T) {
	for id, want := range map[string]string{
		"65a1f0c2e4b0a1b2c3d4e5f6": "65a1f0c2-e4b0-a1b2-c3d4-e5f6cc1c4880",
		"000000000000000000000000": guidOf("000000000000000000000000"),
		"ffffffffffffffffffffffff": guidOf("ffffffffffffffffffffffff"),
	} {
		if got := ids.GUID(id); got != want {
			t.Errorf("GUID(%s) = %s, want %s", id, got, want)
		}
	}
	for range 200 {
		id := store.NewID()
		if got, want := ids.GUID(id), guidOf(id); got != want {
			t.Fatalf("GUID(%s) = %s, want %s", id, got, want)
		}
	}
}

// guidOf is the spelling's definition, written out.
func guidOf(id string) string {
	sum := sha256.Sum256([]byte("eimshub-guid:" + id))
	d := id + hex.EncodeToString(sum[:4])
	return d[0:8] + "-" + d[8:12] + "-" + d[12:16] + "-" + d[16:20] + "-" + d[20:32]
}
