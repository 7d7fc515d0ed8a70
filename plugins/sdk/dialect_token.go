package sdk

import "context"

// Dialect tokens (Host API v2 extension): opaque access/refresh token pairs
// in a dialect's own format (e-office: 128 lower-case hex characters),
// bound to a hub client and a user of its tenant and kept in the hub's
// token store (the cache: Redis when configured), with the dialect's
// lifetimes. A connector whose clients expect such tokens uses them
// instead of the hub's JWT access tokens (IssueToken).
//
// A Host that offers them implements DialectTokenStore; connectors find it
// with a type assertion (the plugin side's Host always does, the hub's
// bridge does when its services include the token store).

// DialectTokenSpec is a dialect's token format and lifetimes, in seconds.
type DialectTokenSpec struct {
	// Namespace is the dialect ("eoffice"): tokens of one namespace are
	// never found through another.
	Namespace string `json:"namespace"`
	// Length is the token length in hex characters (even, 32–256).
	Length int `json:"length"`
	// AccessTTL is the access token's expiry (e-office 3600): older
	// tokens resolve to ReasonTokenExpired.
	AccessTTL int64 `json:"accessTtl"`
	// IdleTTL is how long an access token stays known (e-office 7200; a
	// Touch re-arms it): after it, ReasonTokenUnknown.
	IdleTTL int64 `json:"idleTtl"`
	// RefreshTTL is the refresh token's sliding lifetime (e-office 7200).
	RefreshTTL int64 `json:"refreshTtl"`
	// Grace is how long a refreshed access token answers
	// ReasonTokenReplaced (then ReasonTokenUnknown) and a repeated refresh
	// of it returns the same new token (e-office 2).
	Grace int64 `json:"grace"`
}

// Reasons of the Unauthorized errors of the dialect token calls.
const (
	ReasonTokenUnknown   = "dialect_token_unknown"   // unknown, revoked, idle too long, or refreshed more than Grace ago
	ReasonTokenExpired   = "dialect_token_expired"   // older than AccessTTL
	ReasonTokenReplaced  = "dialect_token_replaced"  // refreshed at most Grace ago
	ReasonUserInactive   = "dialect_user_inactive"   // the token's user left or was deleted (the token is revoked)
	ReasonRefreshDead    = "dialect_refresh_dead"    // refresh: no live refresh record for this pair
	ReasonRefreshForeign = "dialect_refresh_foreign" // refresh: the refresh token belongs to another user or client
)

// DialectToken is an issued or resolved token.
type DialectToken struct {
	Token        string `json:"token"`
	RefreshToken string `json:"refreshToken"`
	// IssuedAt is the access token's issue time (Unix seconds).
	IssuedAt int64 `json:"issuedAt"`
	// ClientID is the hub client the token was issued through.
	ClientID string `json:"clientId"`
	// Principal is the token's user as a principal of the client's tenant,
	// reloaded from the directory on every resolve (roles, name).
	Principal *Principal `json:"principal,omitempty"`
	// Service (resolve) is the client's own principal, its service user:
	// for system work on the token's behalf, such as allocating the
	// dialect's ids of entities the token's user sees.
	Service *Principal `json:"service,omitempty"`
	// Attrs are the connector's attributes of the token (e.g. its locale).
	Attrs map[string]string `json:"attrs,omitempty"`
}

// DialectTokenStore is the Host API's dialect token store.
type DialectTokenStore interface {
	// IssueDialectToken issues a pair for p's client (p from VerifyClient)
	// acting as userID of p's tenant. NotFound when the user does not
	// exist or is inactive.
	IssueDialectToken(ctx context.Context, p *Principal, userID string, spec DialectTokenSpec, attrs map[string]string) (*DialectToken, error)
	// ResolveDialectToken checks an access token: Unauthorized with a
	// Reason above when it fails (a disabled client or changed secret
	// revokes every token of the client: ReasonTokenUnknown). limit, when
	// set, is a connector id: the call also counts one request against
	// the client's rate on that connector (RateLimited when spent).
	ResolveDialectToken(ctx context.Context, spec DialectTokenSpec, token, limit string) (*DialectToken, error)
	// RefreshDialectToken issues a new access token for the pair (token,
	// refreshToken); the refresh token is kept (not rotated) and its
	// lifetime restarts. The old access token answers ReasonTokenReplaced
	// for Grace seconds, then ReasonTokenUnknown; a repeated refresh within
	// Grace returns the same new token.
	RefreshDialectToken(ctx context.Context, spec DialectTokenSpec, token, refreshToken string) (*DialectToken, error)
	// TouchDialectToken re-arms an access token's IdleTTL (not its
	// expiry) and merges attrs into its attributes; renew also issues a new
	// pair for the same user (the old token stays valid) and returns it.
	TouchDialectToken(ctx context.Context, spec DialectTokenSpec, token string, attrs map[string]string, renew bool) (*DialectToken, error)
	// RevokeDialectToken revokes an access token and its refresh record.
	// An unknown token is not an error.
	RevokeDialectToken(ctx context.Context, spec DialectTokenSpec, token string) error
}
