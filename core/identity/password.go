package identity

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Password hashing.
//
// Choice: bcrypt (golang.org/x/crypto/bcrypt) at cost 10. bcrypt is salted,
// self-describing ("$2a$10$..." carries algorithm, cost and salt, so the cost
// can be raised later without migrating stored hashes), compares in constant
// time, and needs no tuning of memory parameters the way argon2id does — which
// matters for a hub that may run on small machines. Its 72-byte input limit is
// enforced: longer passwords are rejected by HashPassword rather than silently
// truncated.

// PasswordCost is the bcrypt cost used by HashPassword.
const PasswordCost = 10

// hashCost is the cost HashPassword uses: PasswordCost, unless a test
// binary lowered it with UseFastHashesInTests.
var hashCost atomic.Int32

func init() { hashCost.Store(PasswordCost) }

// UseFastHashesInTests makes HashPassword (and so seeding, client secrets
// and the dummy hash) use bcrypt's minimum cost: under the race detector a
// cost-10 hash or comparison takes seconds on a loaded machine, and test
// suites make hundreds. Call it from TestMain. It panics outside a test
// binary (testing.Testing), so a hub cannot be made to store weak hashes.
func UseFastHashesInTests() {
	if !testing.Testing() {
		panic("identity.UseFastHashesInTests called outside a test binary")
	}
	hashCost.Store(int32(bcrypt.MinCost))
}

// MaxPasswordLen is the longest password (in bytes) HashPassword accepts.
const MaxPasswordLen = 72

// ErrPasswordTooLong is returned by HashPassword for passwords over MaxPasswordLen bytes.
var ErrPasswordTooLong = errors.New("identity: password longer than 72 bytes")

// HashPassword returns a bcrypt hash of pw suitable for the user document's
// passwordHash field.
func HashPassword(pw string) (string, error) {
	if len(pw) > MaxPasswordLen {
		return "", ErrPasswordTooLong
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), int(hashCost.Load()))
	if err != nil {
		return "", fmt.Errorf("identity: hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword reports whether pw matches hash (as produced by HashPassword).
// The comparison is constant-time; an empty or malformed hash never matches.
func CheckPassword(hash, pw string) bool {
	if hash == "" || len(pw) > MaxPasswordLen {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}
