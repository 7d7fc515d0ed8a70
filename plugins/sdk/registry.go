package sdk

import (
	"fmt"
	"slices"
	"sync"
)

var (
	regMu    sync.RWMutex
	registry = map[string]Info{}
)

// Register makes a built-in connector known to the hub binary. Call it from
// an init function; info.ID and info.New are required. It panics on a
// missing field or a duplicate ID (as Caddy's RegisterModule does): both are
// programming errors found at start-up.
func Register(info Info) {
	if info.ID == "" {
		panic("sdk.Register: connector ID is empty")
	}
	if info.New == nil {
		panic(fmt.Sprintf("sdk.Register: connector %q has no New function", info.ID))
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[info.ID]; dup {
		panic(fmt.Sprintf("sdk.Register: connector %q already registered", info.ID))
	}
	registry[info.ID] = info
}

// Lookup returns the registered connector with id.
func Lookup(id string) (Info, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	info, ok := registry[id]
	return info, ok
}

// Registered lists the registered connector IDs, sorted.
func Registered() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	ids := make([]string, 0, len(registry))
	for id := range registry {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
