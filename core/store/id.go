package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// NewID returns a new 24-hex-digit id in the shape of a MongoDB ObjectId
// (4 bytes of seconds, then 8 random bytes), so ids sort roughly by creation
// time and existing EIMSNext documents keep their ids.
func NewID() string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(time.Now().Unix()))
	if _, err := rand.Read(b[4:]); err != nil {
		panic("store: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
