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
		`{"allowWithdraw":false,"nodes":[{"id":"s","type":"start"},{"id":"e","type":"end"}]}`, `[]`, `"x"`, `{"nodes":[{"id":1}]}`,
		// The web client designer's flow data (designer.go).
		`{"startNode":{"id":"s","nodeType":1},"nodes":[{"id":"n","nodeType":7,"metadata":{"approveMeta":{"approveMode":2,"approvalCandidates":[{"candidateType":1,"candidateId":"d","cascadedDept":true}]}}}],"endNode":{"id":"e","nodeType":2}}`,
		`{"startNode":{},"nodes":[{"id":"b","nodeType":3,"childNodes":[{"id":"i","nodeType":4,"conditionData":{"nodeType":5,"metadata":{"conditionMeta":{"condition":{"rel":"or","items":[{"field":"data.a","op":"gt","value":1}]}}}},"childNodes":[{"id":"c","nodeType":8,"metadata":{"copytoMeta":{"approvalCandidates":[{"candidateType":"2","candidateId":"u"}]}}}]},{"id":"o","nodeType":4,"conditionData":{"nodeType":6}}]}]}`,
		`{"endNode":null,"nodes":null}`} {
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
