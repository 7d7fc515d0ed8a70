package files_test

import (
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/files"
	"github.com/eimshub/eimshub/core/principal"
)

// Capability URLs (spec eims-native.md §12.12, D-12.2): every upload has a
// savePath upload/<tenant dir>/<128-bit random name><ext> that
// OpenCapability serves without a caller, for that exact path only.
func TestCapabilityPaths(t *testing.T) {
	e := newEnv(t, openStore(t))
	han := &principal.Principal{Tenant: "租户一", UserID: "u_h"} // a tenant id that is not a plain directory name
	up := func(p *principal.Principal, name, body string) map[string]any {
		t.Helper()
		docs, err := e.svc.Upload(e.ctx, p, files.UploadRequest{Files: []files.Upload{{FileName: name, Content: strings.NewReader(body), Size: -1}}})
		if err != nil {
			t.Fatal(err)
		}
		return docs[0]
	}
	a := up(e.bob, "a.TXT", "hello")
	h := up(han, "h.txt", "你好")
	plain := regexp.MustCompile(`^upload/t1/[0-9a-f]{32}\.txt$`)
	hashed := regexp.MustCompile(`^upload/t[0-9a-f]{24}/[0-9a-f]{32}\.txt$`)
	if sp := a["savePath"].(string); !plain.MatchString(sp) || a["thumbPath"] != sp {
		t.Fatalf("savePath %v, thumbPath %v", sp, a["thumbPath"])
	}
	if sp := h["savePath"].(string); !hashed.MatchString(sp) {
		t.Fatalf("hashed tenant dir: %s", sp)
	}
	split := func(sp string) (string, string) {
		parts := strings.Split(sp, "/")
		return parts[1], parts[2]
	}
	open := func(dir, name string) (string, error) {
		f, err := e.svc.OpenCapability(e.ctx, dir, name)
		if err != nil {
			return "", err
		}
		defer f.Content.Close()
		if !f.Capability || f.Public {
			t.Errorf("%s/%s: Capability %v Public %v", dir, name, f.Capability, f.Public)
		}
		b, _ := io.ReadAll(f.Content)
		return string(b), nil
	}
	ad, an := split(a["savePath"].(string))
	hd, hn := split(h["savePath"].(string))
	for _, tc := range []struct {
		name, dir, file, want string
	}{
		{"plain tenant", ad, an, "hello"},
		{"hashed tenant", hd, hn, "你好"},
		{"another tenant's dir", hd, an, ""},
		{"the tenant id instead of its dir", "租户一", hn, ""},
		{"no extension", ad, strings.TrimSuffix(an, ".txt"), ""},
		{"other extension", ad, strings.TrimSuffix(an, ".txt") + ".pdf", ""},
		{"upper case", ad, strings.ToUpper(an), ""},
		{"file id instead of the name", ad, a["id"].(string) + ".txt", ""},
		{"traversal dir", "..", an, ""},
		{"empty dir", "", an, ""},
		{"long name", ad, strings.Repeat("a", 100) + ".txt", ""},
	} {
		got, err := open(tc.dir, tc.file)
		switch {
		case tc.want == "" && errs.CodeOf(err) != errs.NotFound:
			t.Errorf("%s: %q, %v; want NotFound", tc.name, got, err)
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if err := e.svc.Delete(e.ctx, e.bob, a["id"].(string)); err != nil {
		t.Fatal(err)
	}
	if _, err := open(ad, an); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("deleted file still opens: %v", err)
	}
}
