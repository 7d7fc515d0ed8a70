package mongo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/x/mongo/driver/topology"

	"github.com/eimshub/eimshub/core/errs"
)

func TestMapErr(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want errs.Code
	}{
		{"no documents", mongo.ErrNoDocuments, errs.NotFound},
		{"duplicate key", mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000, Message: "E11000"}}}, errs.Conflict},
		{"duplicate key (command)", mongo.CommandError{Code: 11000}, errs.Conflict},
		{"write conflict", mongo.CommandError{Code: 112, Labels: []string{"TransientTransactionError"}}, errs.Conflict},
		{"deadline", fmt.Errorf("op: %w", context.DeadlineExceeded), errs.Unavailable},
		{"cancelled", context.Canceled, errs.Unavailable},
		{"max time", mongo.CommandError{Code: 50, Name: "MaxTimeMSExpired"}, errs.Unavailable},
		{"network", mongo.CommandError{Labels: []string{"NetworkError"}}, errs.Unavailable},
		{"server selection", topology.ServerSelectionError{Wrapped: errors.New("no primary")}, errs.Unavailable},
		{"server selection timeout", topology.ErrServerSelectionTimeout, errs.Unavailable},
		{"disconnected", mongo.ErrClientDisconnected, errs.Unavailable},
		{"bad value", mongo.CommandError{Code: 2, Name: "BadValue"}, errs.Internal},
		{"other", errors.New("surprise"), errs.Internal},
		{"typed passes through", errs.Forbiddenf("no"), errs.Forbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mapErr(tc.err, "op")
			if got == nil || errs.CodeOf(got) != tc.want {
				t.Fatalf("mapErr(%v) = %v, want %v", tc.err, got, tc.want)
			}
			if cause := errs.As(got).Err; tc.want != errs.Forbidden && !reflect.DeepEqual(cause, tc.err) {
				t.Errorf("mapErr(%v) lost its cause", tc.err)
			}
		})
	}
	if mapErr(nil, "op") != nil {
		t.Error("mapErr(nil) != nil")
	}
	// Error labels stay visible through the wrapper (WithTransaction's retry
	// loop walks Unwrap).
	var le mongo.LabeledError
	wrapped := mapErr(mongo.CommandError{Code: 112, Labels: []string{"TransientTransactionError"}}, "op")
	if !errors.As(wrapped, &le) || !le.HasErrorLabel("TransientTransactionError") {
		t.Errorf("label lost in %v", wrapped)
	}
}
