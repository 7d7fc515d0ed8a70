package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/config"
)

const backupUsage = `usage: eimshub backup [--config FILE] OUT

Writes a consistent copy of the embedded SQLite store (<dataDir>/eimshub.db)
to OUT while the hub keeps serving (SQLite's VACUUM INTO: one snapshot,
writers not blocked). OUT must not exist; it is checked with PRAGMA
integrity_check before it is put in place. The signing key and uploaded
files (<dataDir>/signing.key, files.root) are plain files: copy them too.
Restore: stop the hub, copy OUT to <dataDir>/eimshub.db, delete
eimshub.db-wal and eimshub.db-shm, start the hub (README "Backup and restore").
With MongoDB as the store, use mongodump.
`

// runBackupCmd runs `eimshub backup`.
func runBackupCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, backupUsage) }
	cfgPath := fs.String("config", "", "config file (default $EIMSHUB_CONFIG, else config/eimshub.example.yaml)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, backupUsage)
		return 2
	}
	cfg, err := config.LoadEnv(configPath(*cfgPath, getenv), getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if cfg.StorageDriver() != config.DriverSQLite {
		fmt.Fprintln(stderr, "eimshub backup: the store is MongoDB (storage.url): back it up with mongodump")
		return 1
	}
	if _, err := os.Stat(cfg.SQLitePath()); err != nil {
		fmt.Fprintln(stderr, "eimshub backup: no embedded store to back up:", err)
		return 1
	}
	st, err := sqlite.Open(ctx, cfg.SQLitePath())
	if err != nil {
		fmt.Fprintln(stderr, "eimshub backup:", err)
		return 1
	}
	defer st.Close()
	if err := st.Backup(ctx, fs.Arg(0)); err != nil {
		fmt.Fprintln(stderr, "eimshub backup:", err)
		return 1
	}
	fmt.Fprintf(stdout, "backup of %s written to %s (integrity check ok)\n", cfg.SQLitePath(), fs.Arg(0))
	return 0
}
