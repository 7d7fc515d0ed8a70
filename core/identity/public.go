package identity

import (
	"context"

	"github.com/eimshub/eimshub/core/errs"
)

// IsPublicClient reports whether clientID is a registered public client
// (no secret; the EIMSNext web client's kind, spec eims-native.md §12.2).
// An unknown client is not public. The answer comes from the directory
// cache, so the rate limiter may ask on every request.
func (s *Service) IsPublicClient(ctx context.Context, clientID string) (bool, error) {
	if clientID == "" {
		return false, nil
	}
	cl, err := s.getClient(ctx, clientID)
	if errs.CodeOf(err) == errs.NotFound {
		return false, nil
	}
	if err != nil {
		return false, errs.Wrap(errs.Unavailable, err, "load client")
	}
	return cl.Public && !cl.Disabled, nil
}
