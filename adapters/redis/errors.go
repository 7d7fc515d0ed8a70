package redis

import (
	"context"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/eimshub/eimshub/core/errs"
)

// mapErr is the ONE place Redis errors become core errors:
//
//   - redis.Nil (absent key) → errs.NotFound (Reason "cache_miss", like
//     adapters/memory);
//   - a reply error about the value ("value is not an integer", WRONGTYPE)
//     → errs.Conflict;
//   - a reply error saying the server cannot serve now (LOADING, READONLY,
//     MASTERDOWN, CLUSTERDOWN, TRYAGAIN, BUSY) → errs.Unavailable;
//   - any other reply error → errs.Internal (a bug: bad command or script);
//   - everything else — refused or broken connections, timeouts, a closed
//     client, pool timeouts, the caller's cancelled context — is a transport
//     failure → errs.Unavailable.
//
// op names the operation for the message; keys are never included (they
// may embed token ids).
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, redis.Nil) {
		return errs.New(errs.NotFound, "cache key not found").WithReason("cache_miss")
	}
	var re redis.Error
	if errors.As(err, &re) {
		msg := re.Error()
		switch {
		case strings.Contains(msg, "not an integer"), strings.HasPrefix(msg, "WRONGTYPE"):
			return errs.Wrap(errs.Conflict, err, "redis "+op+": value has the wrong type")
		case hasAnyPrefix(msg, "LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY"):
			return errs.Wrap(errs.Unavailable, err, "redis "+op+": server not ready")
		}
		return errs.Wrap(errs.Internal, err, "redis "+op)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errs.Wrap(errs.Unavailable, err, "redis "+op+": cancelled or timed out")
	}
	return errs.Wrap(errs.Unavailable, err, "redis "+op+": unreachable")
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// errOpen is returned while the breaker fails calls fast.
func errOpen(op string) error {
	return errs.New(errs.Unavailable, "redis "+op+": unreachable (circuit open, failing fast)")
}
