package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/eimshub/eimshub/config"
	"github.com/eimshub/eimshub/core/identity"
)

const userUsage = `usage: eimshub user unlock [--config FILE] TENANT USER

Clears the password-login lockout of USER (user name, phone or e-mail) in
TENANT: the user-wide lock and the lock of every source address that failed
within auth.lockoutWindow. The lockout lives in the cache: with Redis
(cache.url) this works while the hub runs; with the in-process cache it
lives in the running hub's memory — restart the hub (or wait
auth.lockoutWindow) to clear it.
`

// runUserCmd runs `eimshub user …`.
func runUserCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] != "unlock" {
		fmt.Fprint(stderr, userUsage)
		return 2
	}
	fs := flag.NewFlagSet("user unlock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file (default $EIMSHUB_CONFIG, else config/eimshub.example.yaml)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		fmt.Fprint(stderr, userUsage)
		return 2
	}
	cfg, err := config.LoadEnv(configPath(*cfgPath, getenv), getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	res, err := unlockUser(ctx, cfg, fs.Arg(0), fs.Arg(1), stderr)
	if err != nil {
		fmt.Fprintln(stderr, "eimshub user unlock:", err)
		return 1
	}
	who := "login " + fs.Arg(1) + " (no such active user)"
	if res.UserID != "" {
		who = "user " + fs.Arg(1) + " (id " + res.UserID + ")"
	}
	fmt.Fprintf(stdout, "unlocked %s in tenant %s", who, fs.Arg(0))
	if len(res.Addresses) > 0 {
		fmt.Fprintf(stdout, "; failed addresses cleared: %s", strings.Join(res.Addresses, ", "))
	}
	fmt.Fprintln(stdout)
	return 0
}

// configPath is the --config value, else $EIMSHUB_CONFIG, else the example.
func configPath(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if p := getenv("EIMSHUB_CONFIG"); p != "" {
		return p
	}
	return "config/eimshub.example.yaml"
}

// unlockUser opens the configured store and cache (nothing else: no
// listener, no connectors) and clears the lockout.
func unlockUser(ctx context.Context, cfg *config.Config, tenant, login string, logw io.Writer) (identity.UnlockResult, error) {
	if cfg.CacheDriver() != config.DriverRedis {
		return identity.UnlockResult{}, fmt.Errorf("the cache is in-process (cache.url is empty): lockouts live in the " +
			"running hub's memory and end with it — restart the hub to clear them (or wait auth.lockoutWindow)")
	}
	h := &hub{cfg: cfg, log: newLogger(logw, "warn", cfg.Log.Format)}
	defer h.close()
	st, err := openStore(ctx, cfg, h.log)
	if err != nil {
		return identity.UnlockResult{}, err
	}
	h.store = st
	h.closers = append(h.closers, st.Close)
	if _, err := h.openCache(ctx); err != nil {
		return identity.UnlockResult{}, err
	}
	// Unlock signs nothing: a throwaway key keeps the hub's key file untouched.
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return identity.UnlockResult{}, err
	}
	svc, err := identity.New(identity.Config{SigningKey: key, MaxFailedLogins: cfg.Auth.MaxFailedLogins,
		LockoutWindow: cfg.Auth.LockoutWindow.Std()}, st, h.cache, nil, h.log)
	if err != nil {
		return identity.UnlockResult{}, err
	}
	return svc.Unlock(ctx, tenant, login)
}
