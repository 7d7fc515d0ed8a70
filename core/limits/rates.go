package limits

import (
	"context"
	"errors"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/store"
)

// Fields of a client record (collection "client", system scope, see
// notes/DATA.md) that StoreRates reads.
const (
	clientCollection = "client"
	// FieldRateLimit is the client's rate, e.g. "100-S".
	FieldRateLimit = "rateLimit"
	// FieldConnectorRates is the hub's per-connector override map
	// {connector id: rate} on a client record.
	FieldConnectorRates = "connectorRates"
)

// StoreRates is a RateSource over the client records in st.
func StoreRates(st store.Store) RateSource { return storeRates{st} }

type storeRates struct{ st store.Store }

// ClientRate implements RateSource. An unknown client has no rate.
func (s storeRates) ClientRate(ctx context.Context, clientID, connector string) (string, error) {
	doc, err := s.st.Get(ctx, clientCollection, "", clientID)
	if errors.Is(err, errs.E(errs.NotFound)) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if connector == "" {
		r, _ := doc[FieldRateLimit].(string)
		return r, nil
	}
	m, _ := doc[FieldConnectorRates].(map[string]any)
	r, _ := m[connector].(string)
	return r, nil
}
