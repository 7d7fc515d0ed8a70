package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/eimshub/eimshub/core/errs"
)

// Backup writes a consistent copy of the database to out while the store
// keeps serving reads and writes: SQLite's VACUUM INTO reads one snapshot
// (a read transaction, so writers in WAL mode are not blocked) and writes
// a compact, self-contained database file (no WAL). The copy is written
// next to out under a temporary name, checked with PRAGMA integrity_check,
// and renamed into place; out must not exist. The file is created 0600.
func (s *Store) Backup(ctx context.Context, out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return errs.Wrap(errs.Invalid, err, "sqlite: backup path")
	}
	if _, err := os.Lstat(abs); err == nil {
		return errs.Newf(errs.Conflict, "sqlite: backup: %s already exists", out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return errs.Wrap(errs.Unavailable, err, "sqlite: backup")
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := abs + ".tmp-" + hex.EncodeToString(rnd[:])
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "sqlite: backup")
	}
	_ = f.Close()
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(tmp)
		}
	}()
	// VACUUM INTO accepts an existing empty file (created above with the
	// permissions a database file of the hub has).
	if _, err := s.db.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return mapErr(err, "sqlite: backup")
	}
	if err := IntegrityCheck(ctx, tmp); err != nil {
		return err
	}
	if err := syncFile(tmp); err != nil {
		return errs.Wrap(errs.Unavailable, err, "sqlite: backup")
	}
	if err := os.Rename(tmp, abs); err != nil {
		return errs.Wrap(errs.Unavailable, err, "sqlite: backup")
	}
	ok = true
	return nil
}

// IntegrityCheck opens the database file at path read-only and runs PRAGMA
// integrity_check; nil when SQLite answers "ok".
func IntegrityCheck(ctx context.Context, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return errs.Wrap(errs.Invalid, err, "sqlite: integrity check")
	}
	if _, err := os.Stat(abs); err != nil {
		return errs.Wrap(errs.NotFound, err, "sqlite: integrity check")
	}
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?mode=ro"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "sqlite: integrity check")
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return mapErr(err, "sqlite: integrity check")
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return mapErr(err, "sqlite: integrity check")
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return mapErr(err, "sqlite: integrity check")
	}
	if len(problems) > 0 {
		return errs.Newf(errs.Internal, "sqlite: integrity check of %s: %v", path, problems)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}
