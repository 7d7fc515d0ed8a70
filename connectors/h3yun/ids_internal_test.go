package h3yun

import (
	"fmt"
	"sync"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// extID remembers spellings: the answer is sdk.GUID's, the first time and
// from memory, concurrently, and after the memo started over.
func TestExtIDMemo(t *testing.T) {
	ids := []string{"0123456789abcdef01234567", "fedcba9876543210fedcba98", "not-a-hub-id", ""}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				for _, id := range ids {
					if got, want := extID(id), sdk.GUID(id); got != want {
						t.Errorf("extID(%q) = %q, want %q", id, got, want)
					}
				}
			}
		}()
	}
	wg.Wait()
	for i := range maxGUIDs + 10 { // past the bound: the memo starts over
		id := fmt.Sprintf("%024x", i)
		if got, want := extID(id), sdk.GUID(id); got != want {
			t.Fatalf("extID(%q) = %q, want %q", id, got, want)
		}
	}
	if n := guids.n.Load(); n > maxGUIDs {
		t.Fatalf("%d spellings remembered, bound %d", n, maxGUIDs)
	}
	if got, want := extID(ids[0]), sdk.GUID(ids[0]); got != want {
		t.Fatalf("after starting over: %q, want %q", got, want)
	}
}
