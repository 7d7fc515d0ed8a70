package workflow_test

import (
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/workflow"
)

// Any content either parses into a definition that round-trips or is an
// Invalid error; it never panics.
func FuzzParseDefinition(f *testing.F) {
	for _, s := range []string{`{"nodes":[]}`, `{"nodes":[{"id":"a","type":"approve","assignees":{"users":["x"]},"when":"data/a gt 1"}]}`,
		`{"allowWithdraw":false,"nodes":[{"id":"s","type":"start"},{"id":"e","type":"end"}]}`, `[]`, `"x"`, `{"nodes":[{"id":1}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := workflow.ParseDefinition(s)
		if err != nil {
			if errs.CodeOf(err) != errs.Invalid {
				t.Fatalf("error of code %v: %v", errs.CodeOf(err), err)
			}
			return
		}
		if _, err := workflow.ParseDefinition(d.ToContent()); err != nil {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}
