package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/eimshub/eimshub/core/errs"
)

// mapErr is the one place driver errors become errs codes: a unique or
// primary-key violation is Conflict, a busy or locked database (after the
// busy timeout and retries) or a cancelled context is Unavailable, no rows is
// NotFound, anything else Internal. *errs.Error values pass through.
func mapErr(err error, op string) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errs.Wrap(errs.NotFound, err, op+": not found")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errs.Wrap(errs.Unavailable, err, op+": cancelled")
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch code := se.Code(); {
		case code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, code == sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return errs.Wrap(errs.Conflict, err, op+": duplicate id")
		case isBusy(code):
			return errs.Wrap(errs.Unavailable, err, op+": database is busy")
		}
	}
	return errs.Wrap(errs.Internal, err, op)
}

func isBusy(code int) bool {
	p := code & 0xff
	return p == sqlite3.SQLITE_BUSY || p == sqlite3.SQLITE_LOCKED
}

// busy reports whether err is SQLITE_BUSY or SQLITE_LOCKED.
func busy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && isBusy(se.Code())
}
