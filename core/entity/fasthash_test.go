package entity_test

import (
	"os"
	"testing"

	"github.com/eimshub/eimshub/core/identity"
)

// TestMain lowers the bcrypt cost of the hashes the tests make (identity
// .UseFastHashesInTests): at cost 10 under the race detector each hash or
// comparison takes seconds on a loaded machine.
func TestMain(m *testing.M) {
	identity.UseFastHashesInTests()
	os.Exit(m.Run())
}
