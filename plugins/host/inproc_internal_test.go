package host

import (
	"context"
	"sync"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

// gate is a connector whose requests wait until the test opens the gate;
// it counts the requests inside it.
type gate struct {
	mu     sync.Mutex
	inside int
	all    chan struct{} // closed when want requests are inside
	want   int
	open   chan struct{}
}

func (*gate) Info() sdk.Info { return sdk.Info{ID: "gate"} }

func (g *gate) Handle(ctx context.Context, _ *sdk.Request, _ sdk.Host) (*sdk.Response, error) {
	g.mu.Lock()
	g.inside++
	if g.inside == g.want {
		close(g.all)
	}
	g.mu.Unlock()
	select {
	case <-g.open:
		return &sdk.Response{Status: 200}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestInprocWorkersOverflow: more concurrent requests than reusable
// workers all run at once (the ones past the workers on goroutines of
// their own) and all answer; after Kill the backend still answers (on new
// goroutines) and Kill twice is harmless.
func TestInprocWorkersOverflow(t *testing.T) {
	n := 2*inprocWorkers + 3
	g := &gate{all: make(chan struct{}), want: n, open: make(chan struct{})}
	b := newInprocBackend(g, sdktest.NewMemHost())
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := b.Handle(context.Background(), &sdk.Request{RequestID: "w"})
			if err == nil && resp.Status != 200 {
				err = sdk.Errorf(sdk.Internal, "status %d", resp.Status)
			}
			errs <- err
		}()
	}
	<-g.all // every request is inside the connector at the same time
	close(g.open)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	b.Kill()
	b.Kill()
	if resp, err := b.Handle(context.Background(), &sdk.Request{}); err != nil || resp.Status != 200 {
		t.Fatalf("after Kill: %v %v", resp, err)
	}
}
