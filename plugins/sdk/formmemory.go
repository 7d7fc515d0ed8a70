package sdk

import (
	"sync"

	pb "github.com/eimshub/eimshub/plugins/proto"
)

// formMemory is the plugin side's memory of the forms the host sent
// (GetForm, FindRecords WithForm), per (tenant, form argument). A
// FindRecords WithForm names the form it has (known_form_id and
// known_form_version); when the host's form is still that one it answers
// without the fields (form_unchanged) and the fields remembered here are
// used: a dialect read that wants its form with the page then costs no
// form encoding in the host and no decoding in the plugin. Entries are
// replaced by every newer form the host sends; the memory is bounded.
type formMemory struct {
	mu sync.Mutex
	m  map[formMemKey]*Form
}

type formMemKey struct{ tenant, form string }

const formMemoryMax = 1024

func (fm *formMemory) get(p *Principal, form string) *Form {
	if p == nil {
		return nil
	}
	fm.mu.Lock()
	defer fm.mu.Unlock()
	return fm.m[formMemKey{p.Tenant, form}]
}

func (fm *formMemory) put(p *Principal, form string, f *Form) {
	if p == nil || p.Tenant == "" || f == nil || f.Version == 0 {
		return
	}
	fm.mu.Lock()
	defer fm.mu.Unlock()
	if fm.m == nil || len(fm.m) >= formMemoryMax {
		fm.m = map[formMemKey]*Form{}
	}
	fm.m[formMemKey{p.Tenant, form}] = f
}

// pageForm converts the form of a FindRecords answer: known is what the
// request named (nil: nothing).
func (fm *formMemory) pageForm(p *Principal, form string, res *pb.DocsResponse, known *Form) (*Form, error) {
	pf := res.Form
	if !res.FormUnchanged {
		f, err := from.Form(pf)
		if err == nil {
			fm.put(p, form, f)
		}
		return f, err
	}
	if known == nil || pf.Id != known.ID || pf.Version != known.Version {
		return nil, Errorf(Internal, "the host sent form %q as unchanged, the plugin has %v", pf.Id, known != nil).WithReason("connector_protocol")
	}
	// The scalars come with every answer; the fields are the remembered
	// ones (shared: forms are read-only to connectors).
	return &Form{ID: pf.Id, Key: pf.Key, Name: pf.Name, AppID: pf.AppId, UsingWorkflow: pf.UsingWorkflow,
		Fields: known.Fields, Version: pf.Version}, nil
}

// unchangedForm is the host side: the page's form f without its fields
// when the plugin named it (same id and version), else nil.
func unchangedForm(f *Form, r *pb.FindRecordsRequest) *pb.Form {
	if f == nil || r.KnownFormVersion == 0 || f.Version != r.KnownFormVersion || f.ID != r.KnownFormId {
		return nil
	}
	return &pb.Form{Id: f.ID, Key: f.Key, Name: f.Name, AppId: f.AppID, UsingWorkflow: f.UsingWorkflow, Version: f.Version}
}
