package config

import "fmt"

// demoSecrets are the secrets and passwords of the shipped example file and
// of the spec's test fixture: anyone can read them.
var demoSecrets = map[string]bool{
	"demo-secret": true, "demo-limited-secret": true, "demo2-secret": true, "demo-engine-secret": true,
	"admin-pass": true, "alice-pass": true, "bob-pass": true, "carol-pass": true,
	"svc-secret": true, "123456": true,
	// the e-office apps' Secrets (connectors.eoffice)
	"Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok": true, "demo2-eoffice-secret-0000000000": true,
	// the Dabei demo client's secret (connectors.dabei, spec 12's fixture)
	"s3cret-dabei": true,
}

// DemoSecretsInUse lists the seeded clients and users whose secret or
// password is a well-known demo value, as "<tenant>/client <id>" and
// "<tenant>/user <userName>", so the server can warn loudly. Empty when none.
func (c *Config) DemoSecretsInUse() []string {
	var out []string
	for _, t := range c.Tenants {
		for _, cl := range t.Clients {
			if demoSecrets[cl.Secret] {
				out = append(out, fmt.Sprintf("%s/client %s", t.ID, cl.ID))
			}
		}
		for _, u := range t.Users {
			if demoSecrets[u.Password] {
				out = append(out, fmt.Sprintf("%s/user %s", t.ID, u.UserName))
			}
		}
	}
	return out
}
