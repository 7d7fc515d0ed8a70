package main

import (
	"strings"
	"testing"
)

// TestDocsCurrent fails when docs/CONFIG.md's generated reference does not
// match the field comments of package config (fix: go run ./config/gen).
func TestDocsCurrent(t *testing.T) {
	if err := run("..", "../../docs/CONFIG.md", true); err != nil {
		t.Fatal(err)
	}
}

func TestReferenceCoversEveryKey(t *testing.T) {
	ref, err := reference("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"`server.listen`", "`storage.mongo.database`", "`cache.redis.db`", "`auth.refreshTokenMaxTTL`",
		"`limits.defaultRate`", "`files.publicBaseURL`", "`log.format`", "`native.pathPrefixes`",
		"`tenants[].forms[].fields[].columns`", "`connectors.<id>.config`", "`tenants[].clients[].scopes`",
	} {
		if !strings.Contains(ref, "| "+key+" |") {
			t.Errorf("reference has no row for %s", key)
		}
	}
}

func TestSplice(t *testing.T) {
	doc := "head\n" + beginMarker + "\nold\n" + endMarker + "\ntail\n"
	got, err := splice(doc, "new\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "head\n" + beginMarker + "\n\nnew\n\n" + endMarker + "\ntail\n"
	if got != want {
		t.Errorf("splice = %q, want %q", got, want)
	}
	if _, err := splice("no markers", "x"); err == nil {
		t.Error("splice without markers succeeded")
	}
}

func TestCode(t *testing.T) {
	for in, want := range map[string]string{
		`"./data"`:          "`\"./data\"`",
		`"" (embedded)`:     "`\"\"` (embedded)",
		"10MiB":             "`10MiB`",
		"true (listing it)": "`true` (listing it)",
		"<dataDir>/files":   "`<dataDir>/files`",
		"none":              "none",
		"the id":            "the id",
		"":                  "",
	} {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %q, want %q", in, got, want)
		}
	}
}
