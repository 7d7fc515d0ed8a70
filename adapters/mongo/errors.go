package mongo

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/x/mongo/driver/topology"

	"github.com/eimshub/eimshub/core/errs"
)

// Server error codes the adapter recognises besides those the driver
// classifies (duplicate keys, timeouts, network errors).
const (
	codeWriteConflict        = 112
	codeIndexOptionsConflict = 85
)

// mapErr is the one place driver errors become errs codes:
//
//   - mongo.ErrNoDocuments → NotFound;
//   - a duplicate key (E11000) or a write conflict between transactions → Conflict;
//   - a timeout, a network error, a failed server selection, a disconnected
//     client or a cancelled context → Unavailable;
//   - anything else → Internal.
//
// *errs.Error values pass through. The driver error stays the cause
// (errs.Error.Err), so its error labels (TransientTransactionError, …) remain
// visible to session.WithTransaction's retry loop through Unwrap.
func mapErr(err error, op string) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	var se mongo.ServerError
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return errs.Wrap(errs.NotFound, err, op+": not found")
	case mongo.IsDuplicateKeyError(err):
		return errs.Wrap(errs.Conflict, err, op+": duplicate id")
	case errors.As(err, &se) && se.HasErrorCode(codeWriteConflict):
		return errs.Wrap(errs.Conflict, err, op+": write conflict")
	case mongo.IsTimeout(err), mongo.IsNetworkError(err),
		errors.As(err, &topology.ServerSelectionError{}),
		errors.Is(err, mongo.ErrClientDisconnected),
		errors.Is(err, context.Canceled):
		return errs.Wrap(errs.Unavailable, err, op+": database unavailable")
	}
	return errs.Wrap(errs.Internal, err, op)
}

// hasCode reports whether err carries the server error code.
func hasCode(err error, code int) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(code)
}
