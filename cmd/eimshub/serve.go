package main

import (
	"cmp"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/eimshub/eimshub/adapters/blob"
	gridfsblob "github.com/eimshub/eimshub/adapters/blob/gridfs"
	"github.com/eimshub/eimshub/adapters/memory"
	"github.com/eimshub/eimshub/adapters/mongo"
	redisadapter "github.com/eimshub/eimshub/adapters/redis"
	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/config"
	"github.com/eimshub/eimshub/core/alias"
	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/dataflow"
	"github.com/eimshub/eimshub/core/dialecttoken"
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/files"
	"github.com/eimshub/eimshub/core/httpapi"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/limits"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
	"github.com/eimshub/eimshub/plugins/host"
	"github.com/gofiber/fiber/v2"
	"github.com/ulule/limiter/v3"
	limitermem "github.com/ulule/limiter/v3/drivers/store/memory"
)

// hub is a wired, not yet listening, hub.
type hub struct {
	cfg     *config.Config
	log     *slog.Logger
	store   store.Store
	cache   cache.Cache
	ready   httpapi.Checker // the cache as /readyz sees it (not the near cache)
	ident   *identity.Service
	records *record.Service
	app     *fiber.App
	closers []func() error
}

// openStore picks the store adapter by URL (STYLE.md practice 3). It says
// what it waits for: MongoDB gets storage.mongo.connectTimeout, then a
// clear error naming the host (never the credentials).
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, error) {
	switch cfg.StorageDriver() {
	case config.DriverMongo:
		uri := cfg.Storage.URL
		if uri == "" {
			uri = cfg.Storage.Mongo.URI
		}
		host, wait := hostOf(uri), cfg.Storage.Mongo.ConnectTimeout.Std()
		log.Info("connecting to MongoDB", "host", host, "database", cfg.Storage.Mongo.Database, "timeout", wait)
		cctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		st, err := mongo.Open(cctx, uri, cfg.Storage.Mongo.Database)
		if err != nil {
			if cctx.Err() != nil && ctx.Err() == nil {
				return nil, fmt.Errorf("MongoDB at %s did not answer within %s (storage.mongo.connectTimeout): %w", host, wait, err)
			}
			return nil, fmt.Errorf("open MongoDB store at %s: %w", host, err)
		}
		return st, nil
	default:
		path := cfg.SQLitePath()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open embedded store %s: %w", path, err)
		}
		return st, nil
	}
}

// buildHub wires config → adapters → core services → HTTP app.
func buildHub(ctx context.Context, cfg *config.Config, logw io.Writer) (_ *hub, err error) {
	h := &hub{cfg: cfg, log: newLogger(logw, cfg.Log.Level, cfg.Log.Format)}
	defer func() {
		if err != nil {
			h.close()
		}
	}()
	if h.store, err = openStore(ctx, cfg, h.log); err != nil {
		return nil, err
	}
	h.closers = append(h.closers, h.store.Close)

	lstore, err := h.openCache(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.StorageDriver() == config.DriverSQLite && cfg.CacheDriver() == config.DriverRedis {
		h.log.Warn("SPLIT DATA: the embedded SQLite store with a shared Redis cache (storage.allowSplitData: true): "+
			"instances on other machines share tokens and rate limits but NOT records, users or files; use MongoDB for several machines",
			"sqlite", cfg.SQLitePath(), "redis", hostOf(h.redisURL()))
	}

	// One record core for the process: its form cache is shared by every
	// writer and, through the cache port, invalidated across instances.
	h.records = record.New(h.store, record.Options{Logger: h.log, Cache: h.cache})
	if err := seedTenants(ctx, h.store, h.records, cfg.Tenants); err != nil {
		return nil, err
	}
	if demo := cfg.DemoSecretsInUse(); len(demo) > 0 {
		h.log.Warn("DEMO SECRETS IN USE — anyone who has read the README can log in; change them before exposing this hub",
			"secrets", strings.Join(demo, ", "))
	}

	key, err := loadSigningKey(cfg)
	if err != nil {
		return nil, err
	}
	icfg := identity.Config{
		Issuer:             cfg.Auth.Issuer,
		Audience:           cfg.Auth.Audience,
		SigningKey:         key,
		AccessTTL:          cfg.Auth.AccessTokenTTL.Std(),
		RefreshTTL:         cfg.Auth.RefreshTokenTTL.Std(),
		RefreshMaxTTL:      cfg.Auth.RefreshTokenMaxTTL.Std(),
		MaxFailedLogins:    cfg.Auth.MaxFailedLogins,
		LockoutWindow:      cfg.Auth.LockoutWindow.Std(),
		UnknownNumberIPMax: cfg.Auth.SMSUnknownNumbersPerIP,
		UnknownNumberMax:   cfg.Auth.SMSUnknownNumbersPerHour,
		RegisterTenants:    map[string]bool{},
	}
	for _, t := range cfg.Tenants {
		if t.AllowRegister {
			icfg.RegisterTenants[t.ID] = true
		}
	}
	if len(cfg.Tenants) > 0 {
		icfg.DefaultTenant = cfg.Tenants[0].ID
	}
	outbox := h.startOutbox(ctx)
	if h.ident, err = identity.New(icfg, h.store, h.cache, outbox, h.log); err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	// The seed may have changed clients and users that other instances
	// sharing the cache hold in their directory caches.
	scopes := []string{""}
	for _, t := range cfg.Tenants {
		scopes = append(scopes, t.ID)
	}
	for _, scope := range scopes {
		if err := h.ident.InvalidateDirectory(ctx, scope); err != nil {
			h.log.Warn("cached clients and users of other instances not invalidated after seeding; they expire within a minute",
				"tenant", scope, "err", err)
		}
	}

	clientRates, tenantRates := map[string]string{}, map[string]string{}
	for _, t := range cfg.Tenants {
		if t.RateLimit != "" {
			tenantRates[t.ID] = t.RateLimit
		}
		for _, c := range t.Clients {
			if c.RateLimit != "" {
				clientRates[c.ID] = c.RateLimit
			}
			for conn, r := range c.ConnectorRates {
				clientRates[c.ID+"@"+conn] = r
			}
		}
	}
	lim, err := limits.New(lstore, limits.Config{
		DefaultRate:           cfg.Limits.DefaultRate,
		ClientRates:           clientRates,
		TenantRates:           tenantRates,
		TokenEndpointRate:     cfg.Limits.TokenEndpointRate,
		TokenEndpointIPRate:   cfg.Limits.TokenEndpointIPRate,
		AuthFailureIPRate:     cfg.Limits.AuthFailureIPRate,
		FailOpen:              cfg.Limits.FailOpen,
		FailOpenTokenEndpoint: cfg.Limits.FailOpenTokenEndpoint,
	}, h.log, limits.WithRateSource(limits.StoreRates(h.store)))
	if err != nil {
		return nil, fmt.Errorf("limits: %w", err)
	}

	wf := workflow.New(h.store, workflow.Options{Logger: h.log, Records: h.records})
	if err := wf.EnsureIndexes(ctx); err != nil { // the queries work without them, slower
		h.log.WarnContext(ctx, "workflow indexes not declared", "err", err)
	}
	if err := h.ident.EnsureIndexes(ctx); err != nil {
		h.log.WarnContext(ctx, "user lookup indexes not declared", "err", err)
	}
	h.records.SetWorkflow(wf)
	ents := entity.New(h.store, entity.Options{Logger: h.log, Revoker: h.ident, Records: h.records, Outbox: outbox})
	blobs, err := h.openBlobs()
	if err != nil {
		return nil, err
	}
	migrateWebClient(ctx, h.log, h.records, ents)
	df := dataflow.New(h.store, dataflow.Options{Logger: h.log, Records: h.records})
	fs := files.New(h.store, blobs, files.Options{MaxUpload: int64(cfg.Files.MaxUpload), Logger: h.log})
	// The connectors are mounted after the app is built; until then (and
	// for paths no connector owns) edge errors keep the native envelope.
	edge := &edgeErrors{}
	deps := httpapi.Deps{
		Logger: h.log,
		Options: httpapi.Options{
			EdgeError:       edge.render,
			BodyLimit:       int(cfg.Server.BodyLimit),
			MaxHeaderBytes:  int(cfg.Server.MaxHeaderBytes),
			Swagger:         cfg.Native.Swagger,
			PathPrefixes:    cfg.Native.PathPrefixes,
			ShutdownTimeout: cfg.Server.ShutdownTimeout.Std(),
			MaxUpload:       int(cfg.Files.MaxUpload),
			Version:         version,
			CORS: &httpapi.CORS{AllowedOrigins: cfg.Native.CORS.AllowedOrigins,
				AllowCredentials: cfg.Native.CORS.AllowCredentials},
			DisableCapabilityURLs: !cfg.Native.Files.CapabilityURLs,
		},
		Ready:    map[string]httpapi.Checker{"store": h.store, "cache": h.ready},
		Identity: h.ident,
		Entities: ents,
		Limits:   lim,
		Workflow: wf,
		Dataflow: df,
		Files:    fs,
	}
	h.app = httpapi.New(deps)
	auth := bearerPrincipal(h.ident)
	svc := host.Services{Entities: ents, Identity: h.ident, Workflow: wf, Dataflow: df, Files: fs,
		Aliases: alias.New(h.store), Store: h.store, DialectTokens: dialecttoken.New(h.cache, h.ident, lim)}
	closeConnectors, err := startConnectors(ctx, cfg, h.app, svc, auth, &deps, operatorOnly(auth, cfg.Server.Operators), h.log, edge)
	if err != nil {
		return nil, fmt.Errorf("connectors: %w", err)
	}
	h.closers = append(h.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout.Std())
		defer cancel()
		return closeConnectors(ctx)
	})
	return h, nil
}

// openCache picks the cache and the limiter's counter store by URL: Redis
// shared by every instance, or in-process. With Redis, identity reads the
// revocation keys through a near cache (≤ 1 s stale), so validating a token
// usually costs no round trip and a request costs one (the limiter's).
func (h *hub) openCache(ctx context.Context) (limiter.Store, error) {
	if h.cfg.CacheDriver() == config.DriverRedis {
		u := h.redisURL()
		host, wait := hostOf(u), h.cfg.Cache.Redis.ConnectTimeout.Std()
		h.log.Info("connecting to Redis", "host", host, "timeout", wait)
		cctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		client, err := redisadapter.Open(cctx, u)
		if err != nil {
			return nil, fmt.Errorf("open Redis cache at %s (cache.redis.connectTimeout %s): %w", host, wait, err)
		}
		h.closers = append(h.closers, client.Close)
		rc := redisadapter.NewCache(client, redisadapter.WithLogger(h.log))
		h.ready = rc
		h.cache = cache.NewNear(rc, time.Second, identity.NearKeyPrefixes...)
		return redisadapter.NewLimiterStore(client, redisadapter.WithLogger(h.log)), nil
	}
	mc := memory.NewCache()
	h.closers = append(h.closers, func() error { mc.Close(); return nil })
	h.cache, h.ready = mc, mc
	return limitermem.NewStoreWithOptions(limiter.StoreOptions{Prefix: "eimshub:limit",
		CleanUpInterval: limiter.DefaultCleanUpInterval}), nil
}

// redisURL is cache.url with cache.redis.db applied ("" without Redis).
func (h *hub) redisURL() string {
	u := h.cfg.Cache.URL
	if db := h.cfg.Cache.Redis.DB; db != 0 && u != "" {
		if pu, err := url.Parse(u); err == nil {
			pu.Path = "/" + strconv.Itoa(db)
			u = pu.String()
		}
	}
	return u
}

// hostOf is a store or cache URL as logs and errors may show it: scheme,
// host(s) and path (the database), without user, password or query (which
// may carry credentials too). A URL it cannot split safely is "(hidden)".
func hostOf(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "(hidden)"
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		if strings.Contains(rest[i:], "@") && !strings.Contains(rest[:i], "@") {
			return scheme + "://(hidden)" // an unescaped ? or # in the password
		}
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	return scheme + "://" + rest
}

// openBlobs picks the file blob store: GridFS in the MongoDB database when
// MongoDB is the store, else a directory on local disk (files.root).
func (h *hub) openBlobs() (files.Blob, error) {
	if ms, ok := h.store.(*mongo.Store); ok {
		b, err := gridfsblob.New(ms.Database(), "")
		if err != nil {
			return nil, fmt.Errorf("gridfs blob store: %w", err)
		}
		return b, nil
	}
	b, err := blob.NewDisk(h.cfg.Files.Root)
	if err != nil {
		return nil, fmt.Errorf("file store %s: %w", h.cfg.Files.Root, err)
	}
	return b, nil
}

func loadSigningKey(cfg *config.Config) (crypto.Signer, error) {
	alg := cfg.Auth.SigningAlgorithm
	if alg == "" {
		alg = identity.AlgEdDSA
	}
	if cfg.Auth.SigningKey != "" {
		k, err := identity.ParseSigningKeyPEM([]byte(cfg.Auth.SigningKey))
		if err != nil {
			return nil, fmt.Errorf("auth.signingKey: %w", err)
		}
		if got := identity.AlgOf(k); got != alg {
			return nil, fmt.Errorf("auth.signingKey: a %s key, but auth.signingAlgorithm is %s", got, alg)
		}
		return k, nil
	}
	// Only the default path is generated: a configured file that is missing
	// is a mistake (a wrong path, an unmounted secret), and a key generated
	// there would differ from the other instances' key.
	if f := cfg.Auth.SigningKeyFile; f != "" {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("auth.signingKeyFile %s: %w (a configured key is never generated: create it, e.g. "+
				"`openssl genpkey -algorithm ed25519 -out %s`, copy the other instances' key there, or remove the setting "+
				"to use a generated <dataDir> key)", f, err, f)
		}
	}
	k, err := identity.LoadOrCreateSigningKeyFor(cfg.SigningKeyPath(), alg)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return k, nil
}

func (h *hub) close() {
	for i := len(h.closers) - 1; i >= 0; i-- {
		if err := h.closers[i](); err != nil && h.log != nil {
			h.log.Error("close", "err", err)
		}
	}
	h.closers = nil
}

// serve loads the config, wires the hub and serves until ctx ends. When
// ready is not nil it receives the listen address once the hub accepts
// connections (tests use it).
func serve(ctx context.Context, path string, logw io.Writer, getenv func(string) string, ready chan<- string) error {
	cfg, err := config.LoadEnv(path, getenv)
	if err != nil {
		return err
	}
	h, err := buildHub(ctx, cfg, logw)
	if err != nil {
		return err
	}
	defer h.close()
	applyGCPercent(cfg.Server.GCPercent, os.Getenv("GOGC"), h.log)
	storeAt, cacheAt := cfg.SQLitePath(), "in-process"
	if cfg.StorageDriver() == config.DriverMongo {
		storeAt = hostOf(cmp.Or(cfg.Storage.URL, cfg.Storage.Mongo.URI)) + " database " + cfg.Storage.Mongo.Database
	}
	if cfg.CacheDriver() == config.DriverRedis {
		cacheAt = hostOf(h.redisURL())
	}
	h.log.Info("eimshub starting", "version", version, "listen", cfg.Server.Listen,
		"store", cfg.StorageDriver(), "storeAt", storeAt, "cache", cfg.CacheDriver(), "cacheAt", cacheAt, "dataDir", cfg.DataDir)
	err = httpapi.Serve(ctx, h.app, cfg.Server.Listen, cfg.Server.ShutdownTimeout.Std(), h.log, ready)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
