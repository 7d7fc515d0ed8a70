package eoffice

import (
	"strings"
	"testing"
)

// TestHugeInListIsRefused: an in / not_in search condition takes at most
// maxInValues values (found by the hub's bad-input sweep: 20 000 values in
// a 300 KiB body went to the store as one query); more is 0x000007 naming
// the key, as an array or a comma string.
func TestHugeInListIsRefused(t *testing.T) {
	list := func(n int) string { return `[` + strings.TrimSuffix(strings.Repeat(`"x",`, n), ",") + `]` }
	comma := func(n int) string { return `"` + strings.TrimSuffix(strings.Repeat(`x,`, n), ",") + `"` }
	for _, tc := range []struct {
		name, search string
		ok           bool
	}{
		{"in at the limit", `{"name":[` + list(maxInValues) + `,"in"]}`, true},
		{"in over the limit", `{"name":[` + list(maxInValues+1) + `,"in"]}`, false},
		{"not_in over the limit", `{"name":[` + list(maxInValues+1) + `,"not_in"]}`, false},
		{"comma string over the limit", `{"name":[` + comma(maxInValues+1) + `,"in"]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileSearch(Structured(tc.search), SearchOptions{Columns: testCols})
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && err.Error() != "0x000007: Field name is illegal" {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
