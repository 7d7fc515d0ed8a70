//go:build unix

package sqlite

import (
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// walVersion reads the version of the database's committed state from the
// header of SQLite's WAL index, the "-shm" file every connection to a WAL
// database maps (https://sqlite.org/walformat.html, "The WAL-Index
// Header"): a writer — in this process or any other — publishes each commit
// by rewriting that header (its change counter, last frame, salts and
// checksum all move), and a reader's snapshot is whatever the header said
// when its read transaction began. So while the header is unchanged no
// commit has happened, and a document read after the header was seen is
// still current. The header is 48 bytes kept twice; SQLite writes the
// second copy, then the first, and readers trust it only when both agree,
// as here.
type walVersion struct {
	mem []byte // the first page of the -shm file, mapped read-only
}

const walHdrSize = 48

// openWALVersion maps path's "-shm" file; nil when it cannot (the cache is
// then off).
func openWALVersion(dbPath string) *walVersion {
	f, err := os.Open(dbPath + "-shm")
	if err != nil {
		return nil
	}
	defer f.Close()
	mem, err := syscall.Mmap(int(f.Fd()), 0, 2*walHdrSize, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	return &walVersion{mem: mem}
}

// walHdr is one copy of the header, as six words.
type walHdr [walHdrSize / 8]uint64

// current returns the committed state's version; ok is false while the
// header is being rewritten or not initialised (the caller then neither
// trusts nor fills the cache).
func (w *walVersion) current() (v walHdr, ok bool) {
	if w == nil || len(w.mem) < 2*walHdrSize { // off, or closed
		return v, false
	}
	base := unsafe.Pointer(unsafe.SliceData(w.mem))
	var second walHdr
	for i := range v {
		v[i] = atomic.LoadUint64((*uint64)(unsafe.Add(base, 8*i)))
	}
	for i := range second {
		second[i] = atomic.LoadUint64((*uint64)(unsafe.Add(base, walHdrSize+8*i)))
	}
	// isInit is the byte at offset 12 (the low byte of word 1's upper half
	// on a little-endian machine, but compare the byte itself).
	isInit := w.mem[12]
	return v, v == second && isInit == 1
}

func (w *walVersion) close() {
	if w != nil && w.mem != nil {
		_ = syscall.Munmap(w.mem)
		w.mem = nil
	}
}
