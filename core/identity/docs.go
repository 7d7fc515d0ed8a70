package identity

import "github.com/eimshub/eimshub/core/store"

// Accessors for stored documents (notes/DATA.md shapes). Stores hand back
// int64/float64/string/bool/[]any/map[string]any; anything else reads as the
// zero value.

func str(d store.Doc, k string) string {
	s, _ := d[k].(string)
	return s
}

func boolean(d store.Doc, k string) bool {
	b, _ := d[k].(bool)
	return b
}

func integer(d store.Doc, k string) int64 {
	switch v := d[k].(type) {
	case int64:
		return v
	case int:
		return int64(v)
	case float64:
		return int64(v)
	}
	return 0
}

func strs(d store.Doc, k string) []string {
	switch v := d[k].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Collections this package reads or writes.
const (
	collClient     = "client"
	collUser       = "user"
	collOutbox     = "outbox"
	collLoginAudit = "loginaudit"
)

// client is a registered OAuth client (collection "client", system scope).
type client struct {
	ID            string
	Tenant        string
	SecretHash    string
	Public        bool
	Grants        []string
	Scopes        []string
	AccessTTL     int64 // seconds; 0 = default
	ServiceUserID string
	Disabled      bool
}

func clientFromDoc(d store.Doc) *client {
	return &client{
		ID:            str(d, "id"),
		Tenant:        str(d, "tenantId"),
		SecretHash:    str(d, "secretHash"),
		Public:        boolean(d, "public"),
		Grants:        strs(d, "grants"),
		Scopes:        strs(d, "scopes"),
		AccessTTL:     integer(d, "accessTokenTTL"),
		ServiceUserID: str(d, "serviceUserId"),
		Disabled:      boolean(d, "disabled"),
	}
}

// user is the part of a user document tokens need.
type user struct {
	ID           string
	Tenant       string
	UserName     string
	Code         string
	Name         string
	Phone        string
	Email        string
	Active       bool
	Roles        []string
	PasswordHash string
}

func userFromDoc(d store.Doc) *user {
	u := &user{
		ID:           str(d, "id"),
		Tenant:       str(d, "corpId"),
		UserName:     str(d, "userName"),
		Code:         str(d, "code"),
		Name:         str(d, "empName"),
		Phone:        str(d, "workPhone"),
		Email:        str(d, "workEmail"),
		Active:       integer(d, "status") == 0,
		PasswordHash: str(d, "passwordHash"),
	}
	if rs, ok := d["roles"].([]any); ok {
		for _, r := range rs {
			if m, ok := r.(map[string]any); ok {
				if c, _ := m["roleCode"].(string); c != "" {
					u.Roles = append(u.Roles, c)
				}
			}
		}
	}
	return u
}
