package identity

import "net/http"

// OAuth error codes (RFC 6749 §5.2, RFC 7009 §2.2.1).
const (
	ErrInvalidRequest       = "invalid_request"
	ErrInvalidClient        = "invalid_client"
	ErrInvalidGrant         = "invalid_grant"
	ErrUnauthorizedClient   = "unauthorized_client"
	ErrUnsupportedGrantType = "unsupported_grant_type"
	ErrInvalidScope         = "invalid_scope"
)

// Descriptions the original server uses (§2.2); clients may match on them.
const (
	DescBadPassword = "用户不存在或密码错误"
	DescBadCode     = "用户不存在或验证码错误"
	DescBadClient   = "The specified client credentials are invalid."
)

// OAuthError is an RFC 6749 error response. The token and revocation
// endpoints render it as {"error": Code, "error_description": Description}
// with HTTP Status; when Basic is set the client authenticated with HTTP
// Basic and the response carries `WWW-Authenticate: Basic realm="eims"`.
type OAuthError struct {
	Code        string
	Description string
	Status      int
	Basic       bool
}

func (e *OAuthError) Error() string {
	if e.Description == "" {
		return "oauth: " + e.Code
	}
	return "oauth: " + e.Code + ": " + e.Description
}

func oauthErr(code, desc string) *OAuthError {
	st := http.StatusBadRequest
	if code == ErrInvalidClient {
		st = http.StatusUnauthorized
	}
	return &OAuthError{Code: code, Description: desc, Status: st}
}
