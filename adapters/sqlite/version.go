package sqlite

import "context"

// CommittedVersion returns the version of the committed database state a
// read under ctx would see (the WAL index header, walver_*.go): while it is
// unchanged nothing at all has been committed — by any connection or
// process — so anything derived from reads made after a version was taken
// is still current. Callers take the version before they read and keep
// what they derived only with it, as the document cache does. ok is false
// inside a transaction (reads there see its uncommitted writes), with the
// document cache off, and when the version cannot be read; the caller
// then must not cache.
func (s *Store) CommittedVersion(ctx context.Context) (v [6]uint64, ok bool) {
	if s.docs == nil || s.txFrom(ctx) != nil {
		return v, false
	}
	h, ok := s.wal.current()
	return [6]uint64(h), ok
}
