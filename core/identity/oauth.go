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
	// DescLocked answers password logins refused by the lockout (with
	// Retry-After); the hub's own wording, the original has no lockout.
	DescLocked = "登录失败次数过多，账户已暂时锁定，请稍后再试"
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
	// RetryAfter, when > 0, is sent as the Retry-After header (seconds):
	// a locked login says when to try again.
	RetryAfter int
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
