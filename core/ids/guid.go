// Package ids gives every hub id a GUID spelling.
//
// Hub ids are 24 lowercase hex digits (12 bytes, store.NewID). Dialects
// whose clients expect GUIDs (H3Yun ObjectId, spec h3yun.md §5.4) show the
// GUID spelling instead: the 24 digits followed by an 8-digit checksum,
// grouped 8-4-4-4-12. The spelling is computed, not stored, so it is stable
// across instances and restarts and needs no lookup table; the checksum
// tells a spelling apart from a foreign GUID (a foreign GUID is taken as
// is, and names no hub document). The native API accepts either spelling
// in a path id, so an id copied from one dialect works in the other.
package ids

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

const (
	hubLen  = 24
	sumLen  = 8
	guidLen = 36
)

// GUID returns the GUID spelling of a hub id; any other id is returned
// unchanged.
func GUID(id string) string {
	if !isHex(id, hubLen) {
		return id
	}
	// One allocation (the result): dialect pages spell several ids per row.
	var in [len(guidSalt) + hubLen]byte
	copy(in[copy(in[:], guidSalt):], id)
	sum := sha256.Sum256(in[:])
	var d [hubLen + sumLen]byte
	copy(d[:], id)
	hex.Encode(d[hubLen:], sum[:sumLen/2])
	var g [guidLen]byte
	copy(g[0:8], d[0:8])
	g[8] = '-'
	copy(g[9:13], d[8:12])
	g[13] = '-'
	copy(g[14:18], d[12:16])
	g[18] = '-'
	copy(g[19:23], d[16:20])
	g[23] = '-'
	copy(g[24:36], d[20:32])
	return string(g[:])
}

const guidSalt = "eimshub-guid:"

// FromGUID returns the hub id a GUID spelling stands for (upper case and
// braces accepted, as .NET prints GUIDs); anything else — a hub id, a
// foreign GUID, garbage — is returned unchanged.
func FromGUID(s string) string {
	if len(s) != guidLen && len(s) != guidLen+2 {
		return s
	}
	g := s
	if len(g) == guidLen+2 {
		if g[0] != '{' || g[len(g)-1] != '}' {
			return s
		}
		g = g[1 : len(g)-1]
	}
	if g[8] != '-' || g[13] != '-' || g[18] != '-' || g[23] != '-' {
		return s
	}
	d := strings.ToLower(g[0:8] + g[9:13] + g[14:18] + g[19:23] + g[24:])
	if !isHex(d, hubLen+sumLen) {
		return s
	}
	id, sum := d[:hubLen], d[hubLen:]
	if checksum(id) != sum {
		return s
	}
	return id
}

// IsGUID reports whether s has the 8-4-4-4-12 hex shape of a GUID.
func IsGUID(s string) bool {
	if len(s) != guidLen || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	return isHex(strings.ToLower(s[0:8]+s[9:13]+s[14:18]+s[19:23]+s[24:]), hubLen+sumLen)
}

func checksum(id string) string {
	sum := sha256.Sum256([]byte(guidSalt + id))
	return hex.EncodeToString(sum[:sumLen/2])
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
