//go:build !unix

package sqlite

// walVersion is unix-only (it maps the WAL index); elsewhere the document
// cache is off.
type walVersion struct{}

type walHdr [6]uint64

func openWALVersion(string) *walVersion { return nil }

func (w *walVersion) current() (walHdr, bool) { return walHdr{}, false }

func (w *walVersion) close() {}
