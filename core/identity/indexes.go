package identity

import (
	"context"
	"fmt"

	"github.com/eimshub/eimshub/core/query"
)

// userIndexPaths are the user fields a user is identified by, beside the
// id: the login fields of the password grant and the SMS code login
// (loginQuery, phoneQuery), and the job number, which dialect token
// endpoints match (the e-office get-token `user` by user_accounts,
// user_job_number or phone_number, connectors/eoffice). Without indexes
// each of these lookups reads all of a tenant's users whenever the store's
// result cache cannot answer (after any write).
var userIndexPaths = []query.Path{{"userName"}, {"workPhone"}, {"workEmail"}, {"code"}}

// EnsureIndexes declares the user lookups' indexes on the store.
// Idempotent; the hub calls it once at start.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	if err := s.st.EnsureIndex(ctx, collUser, userIndexPaths); err != nil {
		return fmt.Errorf("identity: user indexes: %w", err)
	}
	return nil
}
