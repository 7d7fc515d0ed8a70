package eoffice

import (
	"context"
	"encoding/base64"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Token checks on every protected route (spec §1.3, §2.5).

// TokenSpec is the e-office token format and lifetimes: 128 lower-case hex
// characters, 3600 s expiry, 7200 s idle and refresh lifetimes, 2 s grace
// after a refresh (§2.2, §2.3).
var TokenSpec = sdk.DialectTokenSpec{Namespace: aliasNS, Length: 128, AccessTTL: 3600, IdleTTL: 7200, RefreshTTL: 7200, Grace: 2}

// TokenInfo is a checked token.
type TokenInfo struct {
	Token string
	*sdk.DialectToken
}

// attrLocale is the token attribute holding its message language.
const attrLocale = "locale"

// tokenStore returns the Host's dialect token store.
func tokenStore(h sdk.Host) (sdk.DialectTokenStore, error) {
	ts, ok := h.(sdk.DialectTokenStore)
	if !ok {
		return nil, sdk.Errorf(sdk.Unavailable, "the hub offers no dialect token store")
	}
	return ts, nil
}

// RequestToken finds the token of a request (§1.3): a non-empty api_token
// parameter (query or body), else "Authorization: Bearer <t>" (literal,
// case-sensitive scheme; an empty token counts as none), else the password
// of HTTP Basic auth. A "token" parameter is not a source.
func RequestToken(req *sdk.Request, in Input) string {
	if t := in.Str("api_token"); t != "" {
		return t
	}
	auth := req.Headers.Get("Authorization")
	if t, ok := strings.CutPrefix(auth, "Bearer "); ok && t != "" {
		return t
	}
	if b, ok := strings.CutPrefix(auth, "Basic "); ok {
		if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b)); err == nil {
			if _, pw, ok := strings.Cut(string(raw), ":"); ok && pw != "" {
				return pw
			}
		}
	}
	return ""
}

// authenticate checks the call's token and sets P, Token and Lang: one
// Host call, which also counts the request against the app's rate.
func (c *Call) authenticate(ctx context.Context) error {
	tok := RequestToken(c.Req, c.In)
	if tok == "" {
		return Fail(CodeNoToken)
	}
	if !wellFormed(tok) {
		return Fail(CodeInvalidToken)
	}
	ts, err := tokenStore(c.Host)
	if err != nil {
		return err
	}
	dt, err := ts.ResolveDialectToken(ctx, TokenSpec, tok, ID)
	if err != nil {
		return tokenError(err)
	}
	c.Token = &TokenInfo{Token: tok, DialectToken: dt}
	c.P, c.Svc = dt.Principal, dt.Service
	if c.Svc == nil {
		c.Svc = c.P
	}
	c.Lang = NormLang(dt.Attrs[attrLocale])
	return nil
}

// wellFormed reports whether t could be a token (128 lower-case hex):
// anything else is refused without a Host call.
func wellFormed(t string) bool {
	if len(t) != TokenSpec.Length {
		return false
	}
	for i := 0; i < len(t); i++ {
		if !(t[i] >= '0' && t[i] <= '9' || t[i] >= 'a' && t[i] <= 'f') {
			return false
		}
	}
	return true
}

// tokenError maps a ResolveDialectToken failure to §2.5's codes.
func tokenError(err error) error {
	e := sdk.AsError(err)
	switch e.Code {
	case sdk.Unauthorized:
		switch e.Reason {
		case sdk.ReasonTokenExpired, sdk.ReasonTokenReplaced:
			return &Error{Code: CodeTokenExpired, Err: err}
		case sdk.ReasonUserInactive:
			return &Error{Code: CodeSessionExpired, Err: err}
		}
		return &Error{Code: CodeInvalidToken, Err: err}
	case sdk.RateLimited:
		return &Error{Code: CodeRateLimited, Err: err}
	case sdk.Unavailable:
		return &Error{Code: CodeRedis, Err: err}
	}
	return FromHost(err, nil)
}
