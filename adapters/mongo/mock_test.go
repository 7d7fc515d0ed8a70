package mongo

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/integration/mtest"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
)

// These tests run the store against the driver's mock deployment and pin
// the exact command documents sent (canonical extended JSON of the relevant
// fields; session ids, $db and read preferences are left out unless a test
// is about them).

const ns = "EIMS.formdata"

func TestMockFindFilters(t *testing.T) {
	mt := newMock(t)
	for _, tc := range filterCases {
		mt.Run(tc.name, func(mt *mtest.T) {
			s := New(mt.Client, "")
			mt.AddMockResponses(mtest.CreateCursorResponse(0, ns, mtest.FirstBatch))
			docs, err := s.Find(context.Background(), "formdata", "t1", query.Query{Filter: tc.filter, Limit: -1})
			if err != nil || len(docs) != 0 {
				mt.Fatalf("Find = %v, %v", docs, err)
			}
			cmd := nextCommand(mt, "find")
			want := `{"find":"formdata","filter":` + tc.want + `,"sort":{"_id":{"$numberInt":"1"}}}`
			if got := pick(mt, cmd, "find", "filter", "sort", "skip", "limit"); got != want {
				mt.Errorf("find\n got %s\nwant %s", got, want)
			}
			noMoreCommands(mt)
		})
	}
}

func TestMockFindPageAndDecode(t *testing.T) {
	mt := newMock(t)
	ctx := context.Background()
	mt.Run("page, sort and decoded documents", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(mtest.CreateCursorResponse(0, ns, mtest.FirstBatch,
			bson.D{{Key: "_id", Value: "r1"}, {Key: "corpId", Value: "t1"}, {Key: "n", Value: int32(7)},
				{Key: "data", Value: bson.D{{Key: "amount", Value: 12.5}, {Key: "tags", Value: bson.A{"a", 2.0}}}}},
			bson.D{{Key: "_id", Value: "r2"}, {Key: "corpId", Value: "t1"}, {Key: "deleteFlag", Value: false}},
		))
		docs, err := s.Find(ctx, "formdata", "t1", query.Query{
			Filter: query.Cmp{Path: p("data", "amount"), Op: query.Ge, Value: 10.0},
			Sort:   []query.Sort{{Path: p("createTime"), Desc: true}},
			Limit:  20, Offset: 40,
		})
		if err != nil {
			mt.Fatal(err)
		}
		want := []store.Doc{
			{"id": "r1", "corpId": "t1", "n": int64(7), "data": map[string]any{"amount": 12.5, "tags": []any{"a", int64(2)}}},
			{"id": "r2", "corpId": "t1", "deleteFlag": false},
		}
		if !reflect.DeepEqual(docs, want) {
			mt.Errorf("docs\n got %#v\nwant %#v", docs, want)
		}
		const wantCmd = `{"find":"formdata","filter":{` + base + `,"$and":[{"data.amount":{"$gte":{"$numberDouble":"10.0"}}}]},` +
			`"sort":{"createTime":{"$numberInt":"-1"},"_id":{"$numberInt":"1"}},"skip":{"$numberLong":"40"},"limit":{"$numberLong":"20"}}`
		if got := pick(mt, nextCommand(mt, "find"), "find", "filter", "sort", "skip", "limit"); got != wantCmd {
			mt.Errorf("find\n got %s\nwant %s", got, wantCmd)
		}
	})
	mt.Run("limit 0 sends nothing", func(mt *mtest.T) {
		s := New(mt.Client, "")
		docs, err := s.Find(ctx, "formdata", "t1", query.Query{Limit: 0})
		if err != nil || docs == nil || len(docs) != 0 {
			mt.Fatalf("Find = %#v, %v; want empty", docs, err)
		}
		noMoreCommands(mt)
	})
	mt.Run("invalid filter sends nothing", func(mt *mtest.T) {
		s := New(mt.Client, "")
		_, err := s.Find(ctx, "formdata", "t1", query.Query{Limit: -1,
			Filter: query.Cmp{Path: p("$where"), Op: query.Eq, Value: "1"}})
		if !errors.Is(err, errs.E(errs.Invalid)) {
			mt.Fatalf("err = %v, want invalid", err)
		}
		noMoreCommands(mt)
	})
	mt.Run("invalid collection", func(mt *mtest.T) {
		s := New(mt.Client, "")
		for _, c := range []string{"", "a$b", "system.users", "x\x00"} {
			if _, err := s.Find(ctx, c, "t1", query.Query{Limit: -1}); !errors.Is(err, errs.E(errs.Invalid)) {
				mt.Errorf("collection %q: err = %v, want invalid", c, err)
			}
		}
		noMoreCommands(mt)
	})
	mt.Run("server error", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(mtest.CreateCommandErrorResponse(mtest.CommandError{Code: 2, Name: "BadValue", Message: "bad"}))
		_, err := s.Find(ctx, "formdata", "t1", query.Query{Limit: -1})
		if errs.CodeOf(err) != errs.Internal || err == nil {
			mt.Fatalf("err = %v, want internal", err)
		}
	})
}

func TestMockCount(t *testing.T) {
	mt := newMock(t)
	mt.Run("count", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(mtest.CreateCursorResponse(0, ns, mtest.FirstBatch,
			bson.D{{Key: "_id", Value: int32(1)}, {Key: "n", Value: int32(3)}}))
		n, err := s.Count(context.Background(), "formdata", "t1", query.In{Path: p("flowStatus"), Values: []query.Value{int64(2)}})
		if err != nil || n != 3 {
			mt.Fatalf("Count = %d, %v", n, err)
		}
		const want = `{"aggregate":"formdata","pipeline":[{"$match":{` + base +
			`,"$and":[{"flowStatus":{"$in":[{"$numberLong":"2"}]}}]}},{"$group":{"_id":{"$numberInt":"1"},"n":{"$sum":{"$numberInt":"1"}}}}]}`
		if got := pick(mt, nextCommand(mt, "aggregate"), "aggregate", "pipeline"); got != want {
			mt.Errorf("aggregate\n got %s\nwant %s", got, want)
		}
	})
}

func TestMockInsert(t *testing.T) {
	mt := newMock(t)
	ctx := context.Background()
	mt.Run("document layout", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(mtest.CreateSuccessResponse())
		err := s.Insert(ctx, "formdata", store.Doc{
			"id": "r1", "corpId": "t1", "flowStatus": int64(1), "createTime": int64(1704038400000),
			"data": map[string]any{"amount": 12.5, "region": "$where", "items": []any{map[string]any{"qty": 2.0}}},
		})
		if err != nil {
			mt.Fatal(err)
		}
		const want = `{"insert":"formdata","documents":[{"_id":"r1","corpId":"t1","createTime":{"$numberLong":"1704038400000"},` +
			`"data":{"amount":{"$numberDouble":"12.5"},"items":[{"qty":{"$numberDouble":"2.0"}}],"region":"$where"},"flowStatus":{"$numberLong":"1"}}]}`
		if got := pick(mt, nextCommand(mt, "insert"), "insert", "documents"); got != want {
			mt.Errorf("insert\n got %s\nwant %s", got, want)
		}
	})
	mt.Run("duplicate id is conflict", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(mtest.CreateWriteErrorsResponse(mtest.WriteError{Index: 0, Code: 11000, Message: "E11000 duplicate key"}))
		err := s.Insert(ctx, "formdata", store.Doc{"id": "r1", "corpId": "t1"})
		if !errors.Is(err, errs.E(errs.Conflict)) {
			mt.Fatalf("err = %v, want conflict", err)
		}
	})
	mt.Run("hostile key is rejected before sending", func(mt *mtest.T) {
		s := New(mt.Client, "")
		for _, d := range []store.Doc{
			{"id": "r1", "corpId": "t1", "$where": "sleep(100)"},
			{"id": "r1", "corpId": "t1", "data": map[string]any{"$set": map[string]any{"x": 1}}},
		} {
			if err := s.Insert(ctx, "formdata", d); !errors.Is(err, errs.E(errs.Invalid)) {
				mt.Errorf("Insert(%v) = %v, want invalid", d, err)
			}
		}
		noMoreCommands(mt)
	})
}

func TestMockGet(t *testing.T) {
	mt := newMock(t)
	ctx := context.Background()
	mt.Run("found", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(mtest.CreateCursorResponse(0, ns, mtest.FirstBatch,
			bson.D{{Key: "_id", Value: "r1"}, {Key: "corpId", Value: "t1"}, {Key: "v", Value: 2.0}}))
		d, err := s.Get(ctx, "formdata", "t1", "r1")
		if err != nil || !reflect.DeepEqual(d, store.Doc{"id": "r1", "corpId": "t1", "v": int64(2)}) {
			mt.Fatalf("Get = %#v, %v", d, err)
		}
		const want = `{"find":"formdata","filter":{"_id":"r1",` + base + `},"limit":{"$numberLong":"1"}}`
		if got := pick(mt, nextCommand(mt, "find"), "find", "filter", "limit"); got != want {
			mt.Errorf("find\n got %s\nwant %s", got, want)
		}
	})
	mt.Run("absent is not found", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(mtest.CreateCursorResponse(0, ns, mtest.FirstBatch))
		if _, err := s.Get(ctx, "formdata", "t1", "r1"); !errors.Is(err, errs.E(errs.NotFound)) {
			mt.Fatalf("err = %v, want not found", err)
		}
	})
	mt.Run("hostile id stays a value", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(mtest.CreateCursorResponse(0, ns, mtest.FirstBatch))
		_, _ = s.Get(ctx, "formdata", "t1", `{"$ne":null}`)
		const want = `{"_id":"{\"$ne\":null}",` + base + `}`
		if got := pick(mt, nextCommand(mt, "find"), "filter"); got != `{"filter":`+want+`}` {
			mt.Errorf("filter %s, want %s", got, want)
		}
	})
}

func TestMockUpdate(t *testing.T) {
	mt := newMock(t)
	ctx := context.Background()
	doc := store.Doc{"id": "r1", "corpId": "t1", "version": int64(3), "data": map[string]any{"x": "y"}}
	const repl = `"u":{"corpId":"t1","data":{"x":"y"},"version":{"$numberLong":"3"}}`
	cond := query.Cmp{Path: p("version"), Op: query.Eq, Value: int64(2)}

	mt.Run("unconditional replace", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(mtest.CreateSuccessResponse(bson.E{Key: "n", Value: 1}, bson.E{Key: "nModified", Value: 1}))
		if err := s.Update(ctx, "formdata", "t1", "r1", doc, nil); err != nil {
			mt.Fatal(err)
		}
		const want = `{"update":"formdata","updates":[{"q":{"_id":"r1",` + base + `},` + repl + `}]}`
		if got := pick(mt, nextCommand(mt, "update"), "update", "updates"); got != want {
			mt.Errorf("update\n got %s\nwant %s", got, want)
		}
		noMoreCommands(mt)
	})
	mt.Run("conditional replace", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(mtest.CreateSuccessResponse(bson.E{Key: "n", Value: 1}, bson.E{Key: "nModified", Value: 1}))
		if err := s.Update(ctx, "formdata", "t1", "r1", doc, cond); err != nil {
			mt.Fatal(err)
		}
		const want = `{"update":"formdata","updates":[{"q":{"_id":"r1",` + base +
			`,"$and":[{"version":{"$numberLong":"2"}}]},` + repl + `}]}`
		if got := pick(mt, nextCommand(mt, "update"), "update", "updates"); got != want {
			mt.Errorf("update\n got %s\nwant %s", got, want)
		}
		noMoreCommands(mt)
	})
	mt.Run("condition fails: conflict", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(
			mtest.CreateSuccessResponse(bson.E{Key: "n", Value: 0}, bson.E{Key: "nModified", Value: 0}),
			mtest.CreateCursorResponse(0, ns, mtest.FirstBatch, bson.D{{Key: "_id", Value: "r1"}}),
		)
		err := s.Update(ctx, "formdata", "t1", "r1", doc, cond)
		if !errors.Is(err, errs.E(errs.Conflict)) {
			mt.Fatalf("err = %v, want conflict", err)
		}
		nextCommand(mt, "update")
		const want = `{"find":"formdata","filter":{"_id":"r1",` + base + `},"projection":{"_id":{"$numberInt":"1"}}}`
		if got := pick(mt, nextCommand(mt, "find"), "find", "filter", "projection"); got != want {
			mt.Errorf("existence check\n got %s\nwant %s", got, want)
		}
	})
	mt.Run("absent with condition: not found", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(
			mtest.CreateSuccessResponse(bson.E{Key: "n", Value: 0}, bson.E{Key: "nModified", Value: 0}),
			mtest.CreateCursorResponse(0, ns, mtest.FirstBatch),
		)
		if err := s.Update(ctx, "formdata", "t1", "r1", doc, cond); !errors.Is(err, errs.E(errs.NotFound)) {
			mt.Fatalf("err = %v, want not found", err)
		}
	})
	mt.Run("absent without condition: not found, no second read", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(mtest.CreateSuccessResponse(bson.E{Key: "n", Value: 0}, bson.E{Key: "nModified", Value: 0}))
		if err := s.Update(ctx, "formdata", "t1", "r1", doc, nil); !errors.Is(err, errs.E(errs.NotFound)) {
			mt.Fatalf("err = %v, want not found", err)
		}
		nextCommand(mt, "update")
		noMoreCommands(mt)
	})
	mt.Run("id or tenant mismatch is invalid", func(mt *mtest.T) {
		s := New(mt.Client, "")
		for _, c := range []struct{ tenant, id string }{{"t1", "other"}, {"t2", "r1"}} {
			if err := s.Update(ctx, "formdata", c.tenant, c.id, doc, nil); !errors.Is(err, errs.E(errs.Invalid)) {
				mt.Errorf("Update(%s, %s) = %v, want invalid", c.tenant, c.id, err)
			}
		}
		noMoreCommands(mt)
	})
}

func TestMockDelete(t *testing.T) {
	mt := newMock(t)
	ctx := context.Background()
	mt.Run("soft delete", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(mtest.CreateSuccessResponse(bson.E{Key: "n", Value: 1}, bson.E{Key: "nModified", Value: 1}))
		if err := s.Delete(ctx, "formdata", "t1", "r1"); err != nil {
			mt.Fatal(err)
		}
		const want = `{"update":"formdata","updates":[{"q":{"_id":"r1",` + base + `},"u":{"$set":{"deleteFlag":true}}}]}`
		if got := pick(mt, nextCommand(mt, "update"), "update", "updates"); got != want {
			mt.Errorf("update\n got %s\nwant %s", got, want)
		}
	})
	mt.Run("absent is not found", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(mtest.CreateSuccessResponse(bson.E{Key: "n", Value: 0}, bson.E{Key: "nModified", Value: 0}))
		if err := s.Delete(ctx, "formdata", "t1", "r1"); !errors.Is(err, errs.E(errs.NotFound)) {
			mt.Fatalf("err = %v, want not found", err)
		}
	})
}

func TestMockEnsureIndex(t *testing.T) {
	mt := newMock(t)
	ctx := context.Background()
	mt.Run("one index per path", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(mtest.CreateSuccessResponse())
		err := s.EnsureIndex(ctx, "formdata", []query.Path{p("data", "amount"), p("id"), p("data", "amount"), p("corpId")})
		if err != nil {
			mt.Fatal(err)
		}
		const want = `{"createIndexes":"formdata","indexes":[` +
			`{"key":{"corpId":{"$numberInt":"1"},"data.amount":{"$numberInt":"1"}},"name":"corpId_1_data.amount_1"},` +
			`{"key":{"corpId":{"$numberInt":"1"},"_id":{"$numberInt":"1"}},"name":"corpId_1__id_1"}]}`
		if got := pick(mt, nextCommand(mt, "createIndexes"), "createIndexes", "indexes"); got != want {
			mt.Errorf("createIndexes\n got %s\nwant %s", got, want)
		}
	})
	mt.Run("nothing to index sends nothing", func(mt *mtest.T) {
		s := New(mt.Client, "")
		if err := s.EnsureIndex(ctx, "formdata", nil); err != nil {
			mt.Fatal(err)
		}
		noMoreCommands(mt)
	})
	mt.Run("same keys under another name are fine", func(mt *mtest.T) {
		s := New(mt.Client, "")
		conflict := mtest.CreateCommandErrorResponse(mtest.CommandError{Code: 85, Name: "IndexOptionsConflict", Message: "exists"})
		mt.AddMockResponses(conflict, mtest.CreateSuccessResponse(), conflict)
		err := s.EnsureIndex(ctx, "formdata", []query.Path{p("a"), p("b")})
		if err != nil {
			mt.Fatal(err)
		}
		if n := len(mt.GetAllStartedEvents()); n != 3 {
			mt.Errorf("%d commands, want 3 (batch, then one by one)", n)
		}
	})
	mt.Run("hostile path", func(mt *mtest.T) {
		s := New(mt.Client, "")
		if err := s.EnsureIndex(ctx, "formdata", []query.Path{p("$where")}); !errors.Is(err, errs.E(errs.Invalid)) {
			mt.Fatalf("err = %v, want invalid", err)
		}
		noMoreCommands(mt)
	})
}

// txCommand is the transaction-relevant part of a command.
type txCommand struct {
	name       string
	lsid       string
	txnNumber  int64
	start      bool
	autocommit any
	concern    string // readConcern on the first command, writeConcern on commit/abort
}

func txFields(mt *mtest.T) []txCommand {
	mt.Helper()
	var out []txCommand
	for _, ev := range mt.GetAllStartedEvents() {
		c := ev.Command
		tc := txCommand{name: ev.CommandName}
		if v, err := c.LookupErr("lsid"); err == nil {
			tc.lsid = v.String()
		}
		if v, err := c.LookupErr("txnNumber"); err == nil {
			tc.txnNumber = v.Int64()
		}
		if v, err := c.LookupErr("startTransaction"); err == nil {
			tc.start = v.Boolean()
		}
		if v, err := c.LookupErr("autocommit"); err == nil {
			tc.autocommit = v.Boolean()
		}
		if v, err := c.LookupErr("readConcern"); err == nil {
			tc.concern = v.String()
		}
		if v, err := c.LookupErr("writeConcern"); err == nil && ev.CommandName != "insert" && ev.CommandName != "update" {
			tc.concern = v.String()
		}
		out = append(out, tc)
	}
	return out
}

// checkTx compares the commands of one transaction: same session for all,
// the first starts it with a majority read concern, all carry autocommit
// false and the transaction number.
func checkTx(mt *mtest.T, got []txCommand, want []txCommand) {
	mt.Helper()
	if len(got) != len(want) {
		mt.Fatalf("commands %+v, want %d: %+v", got, len(want), want)
	}
	for i := range want {
		w := want[i]
		w.lsid = got[0].lsid
		if got[0].lsid == "" {
			mt.Fatalf("no lsid in %+v", got[0])
		}
		if got[i] != w {
			mt.Errorf("command %d\n got %+v\nwant %+v", i, got[i], w)
		}
	}
}

const (
	majorityRead  = `{"level": "majority"}`
	majorityWrite = `{"w": "majority"}`
)

func TestMockTx(t *testing.T) {
	mt := newMock(t)
	ctx := context.Background()
	ok := func() bson.D {
		return mtest.CreateSuccessResponse(bson.E{Key: "n", Value: 1}, bson.E{Key: "nModified", Value: 1})
	}

	mt.Run("commit with nested join", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(ok(), ok(), ok())
		err := s.Tx(ctx, func(ctx context.Context) error {
			if err := s.Insert(ctx, "wftodo", store.Doc{"id": "w1", "corpId": "t1"}); err != nil {
				return err
			}
			return s.Tx(ctx, func(ctx context.Context) error { // joins: no second session, no inner commit
				return s.Delete(ctx, "formdata", "t1", "r1")
			})
		})
		if err != nil {
			mt.Fatal(err)
		}
		checkTx(mt, txFields(mt), []txCommand{
			{name: "insert", txnNumber: 1, start: true, autocommit: false, concern: majorityRead},
			{name: "update", txnNumber: 1, autocommit: false},
			{name: "commitTransaction", txnNumber: 1, autocommit: false, concern: majorityWrite},
		})
	})
	mt.Run("fn error aborts and is returned unchanged", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(ok(), ok())
		boom := errors.New("boom")
		err := s.Tx(ctx, func(ctx context.Context) error {
			if err := s.Insert(ctx, "wftodo", store.Doc{"id": "w1", "corpId": "t1"}); err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			mt.Fatalf("err = %v, want boom itself", err)
		}
		checkTx(mt, txFields(mt), []txCommand{
			{name: "insert", txnNumber: 1, start: true, autocommit: false, concern: majorityRead},
			{name: "abortTransaction", txnNumber: 1, autocommit: false, concern: majorityWrite},
		})
	})
	mt.Run("swallowed nested error still aborts", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(ok(), ok())
		inner := errs.Conflictf("inner")
		err := s.Tx(ctx, func(ctx context.Context) error {
			if err := s.Insert(ctx, "wftodo", store.Doc{"id": "w1", "corpId": "t1"}); err != nil {
				return err
			}
			_ = s.Tx(ctx, func(context.Context) error { return inner })
			return nil
		})
		if err != inner {
			mt.Fatalf("err = %v, want the inner error", err)
		}
		names := []string{}
		for _, c := range txFields(mt) {
			names = append(names, c.name)
		}
		if !reflect.DeepEqual(names, []string{"insert", "abortTransaction"}) {
			mt.Errorf("commands %v, want insert, abortTransaction", names)
		}
	})
	mt.Run("transient error retries the whole transaction", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(
			mtest.CreateCommandErrorResponse(mtest.CommandError{Code: 112, Name: "WriteConflict", Message: "write conflict",
				Labels: []string{"TransientTransactionError"}}),
			ok(), ok(), ok(),
		)
		calls := 0
		err := s.Tx(ctx, func(ctx context.Context) error {
			calls++
			return s.Insert(ctx, "wftodo", store.Doc{"id": "w1", "corpId": "t1"})
		})
		if err != nil || calls != 2 {
			mt.Fatalf("Tx = %v after %d calls, want success after 2", err, calls)
		}
		checkTx(mt, txFields(mt), []txCommand{
			{name: "insert", txnNumber: 1, start: true, autocommit: false, concern: majorityRead},
			{name: "abortTransaction", txnNumber: 1, autocommit: false, concern: majorityWrite},
			{name: "insert", txnNumber: 2, start: true, autocommit: false, concern: majorityRead},
			{name: "commitTransaction", txnNumber: 2, autocommit: false, concern: majorityWrite},
		})
	})
	mt.Run("unknown commit result retries the commit", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(
			ok(),
			mtest.CreateCommandErrorResponse(mtest.CommandError{Code: 91, Name: "ShutdownInProgress", Message: "stepping down",
				Labels: []string{"UnknownTransactionCommitResult"}}),
			ok(),
		)
		err := s.Tx(ctx, func(ctx context.Context) error {
			return s.Insert(ctx, "wftodo", store.Doc{"id": "w1", "corpId": "t1"})
		})
		if err != nil {
			mt.Fatal(err)
		}
		got := txFields(mt)
		if len(got) != 3 || got[1].name != "commitTransaction" || got[2].name != "commitTransaction" {
			mt.Fatalf("commands %+v, want insert and two commits", got)
		}
	})
	mt.Run("panic aborts and propagates", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(ok(), ok())
		func() {
			defer func() {
				if r := recover(); r != "kaboom" {
					mt.Errorf("recovered %v, want kaboom", r)
				}
			}()
			_ = s.Tx(ctx, func(ctx context.Context) error {
				if err := s.Insert(ctx, "wftodo", store.Doc{"id": "w1", "corpId": "t1"}); err != nil {
					return err
				}
				panic("kaboom")
			})
		}()
		names := []string{}
		for _, c := range txFields(mt) {
			names = append(names, c.name)
		}
		if !reflect.DeepEqual(names, []string{"insert", "abortTransaction"}) {
			mt.Errorf("commands %v, want insert, abortTransaction", names)
		}
	})
	mt.Run("commit failure is mapped", func(mt *mtest.T) {
		s := New(mt.Client, "")
		mt.AddMockResponses(ok(), mtest.CreateCommandErrorResponse(mtest.CommandError{Code: 251, Name: "NoSuchTransaction", Message: "gone"}))
		err := s.Tx(ctx, func(ctx context.Context) error {
			return s.Insert(ctx, "wftodo", store.Doc{"id": "w1", "corpId": "t1"})
		})
		if err == nil || errs.CodeOf(err) != errs.Internal {
			mt.Fatalf("err = %v, want internal", err)
		}
	})
}

// The workflow engine's index declarations (core/workflow Indexes) become
// one createIndexes per collection, tenant first.
func TestMockWorkflowIndexes(t *testing.T) {
	mt := newMock(t)
	mt.Run("workflow collections", func(mt *mtest.T) {
		s := New(mt.Client, "")
		for range workflow.Indexes() {
			mt.AddMockResponses(mtest.CreateSuccessResponse())
		}
		if err := workflow.New(s, workflow.Options{}).EnsureIndexes(context.Background()); err != nil {
			mt.Fatal(err)
		}
		ix := func(key string) string {
			return `{"key":{"corpId":{"$numberInt":"1"},"` + key + `":{"$numberInt":"1"}},"name":"corpId_1_` + key + `_1"}`
		}
		for _, want := range []string{
			`{"createIndexes":"wfapprovallog","indexes":[` + ix("dataId") + `,` + ix("wfInstanceId") + `]}`,
			`{"createIndexes":"wfcc","indexes":[` + ix("employeeId") + `,` + ix("wfInstanceId") + `]}`,
			`{"createIndexes":"wfinstance","indexes":[` + ix("dataId") + `,` + ix("initiator.id") + `]}`,
			`{"createIndexes":"wftodo","indexes":[` + ix("employeeId") + `,` + ix("wfInstanceId") + `,` + ix("dataId") + `]}`,
		} {
			if got := pick(mt, nextCommand(mt, "createIndexes"), "createIndexes", "indexes"); got != want {
				mt.Errorf("createIndexes\n got %s\nwant %s", got, want)
			}
		}
		noMoreCommands(mt)
	})
}
