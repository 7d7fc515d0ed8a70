package mongo

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/integration/mtest"
)

// canon renders v as canonical extended JSON, which keeps BSON types
// visible ({"$numberLong": …} vs {"$numberDouble": …}).
func canon(t testing.TB, v any) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(v, true, false)
	if err != nil {
		t.Fatalf("MarshalExtJSON(%v): %v", v, err)
	}
	return string(b)
}

// pick returns the named fields of a command document, in the given order,
// as canonical extended JSON; absent fields are left out.
func pick(t testing.TB, cmd bson.Raw, keys ...string) string {
	t.Helper()
	var d bson.D
	for _, k := range keys {
		v, err := cmd.LookupErr(k)
		if err != nil {
			continue
		}
		d = append(d, bson.E{Key: k, Value: v})
	}
	return canon(t, d)
}

// nextCommand pops the next command the client sent and checks its name.
func nextCommand(mt *mtest.T, name string) bson.Raw {
	mt.Helper()
	ev := mt.GetStartedEvent()
	if ev == nil {
		mt.Fatalf("no %s command was sent", name)
	}
	if ev.CommandName != name {
		mt.Fatalf("sent %s %s, want %s", ev.CommandName, ev.Command, name)
	}
	return ev.Command
}

// noMoreCommands checks that nothing else was sent.
func noMoreCommands(mt *mtest.T) {
	mt.Helper()
	if ev := mt.GetStartedEvent(); ev != nil {
		mt.Fatalf("unexpected command %s %s", ev.CommandName, ev.Command)
	}
}

func newMock(t *testing.T) *mtest.T {
	return mtest.New(t, mtest.NewOptions().ClientType(mtest.Mock))
}
