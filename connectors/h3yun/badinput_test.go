package h3yun_test

import (
	"context"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// TestOwnerIdOfTheWrongTypeWritesNothing: an OwnerId or CreatedBy that is
// neither null nor a string (found by the hub's bad-input sweep: an object
// was dropped and the record written as the service user) fails with
// H3Yun's envelope, and no record is written.
func TestOwnerIdOfTheWrongTypeWritesNothing(t *testing.T) {
	mem := newHost()
	srv := serve(t, startPlugin(t, nil), mem)
	count := func() int64 {
		page, err := mem.FindRecords(context.Background(), &service, demoForm, sdk.Query{}, true)
		if err != nil {
			t.Fatal(err)
		}
		return page.Total
	}
	before := count()
	for _, tc := range []struct{ name, body, want string }{
		{"OwnerId object", `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","BizObject":` + q(`{"F0000001":"x","OwnerId":{"$ne":null}}`) + `}`, "OwnerId"},
		{"OwnerId number", `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","BizObject":` + q(`{"F0000001":"x","OwnerId":5}`) + `}`, "OwnerId"},
		{"CreatedBy array", `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","BizObject":` + q(`{"F0000001":"x","CreatedBy":["`+zhangSan+`"]}`) + `}`, "CreatedBy"},
		{"batch OwnerId object", `{"ActionName":"CreateBizObjects","SchemaCode":"D000024demo","BizObjectArray":[` +
			q(`{"F0000001":"ok"}`) + `,` + q(`{"F0000001":"x","OwnerId":{"$gt":""}}`) + `]}`, "BizObjectArray[1].OwnerId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			invoke(t, srv, tc.body).mustFail(t, tc.want)
		})
	}
	if after := count(); after != before {
		t.Errorf("records %d → %d: a failed create wrote", before, after)
	}
	// null and a string stay fine.
	invoke(t, srv, `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","BizObject":`+q(`{"F0000001":"x","OwnerId":null}`)+`}`).mustOK(t, nil)
	invoke(t, srv, `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","BizObject":`+q(`{"F0000001":"x","OwnerId":"`+zhangSan+`"}`)+`}`).mustOK(t, nil)
}
