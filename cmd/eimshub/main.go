// Command eimshub is the EIMS Hub server and its tools.
//
//	eimshub serve [--config FILE]        start the hub
//	eimshub config check FILE            validate a config file (file:line errors)
//	eimshub connector ID                 serve a built-in connector (plugin mode)
//	eimshub plugin new NAME              scaffold a connector module
//	eimshub user unlock TENANT USER      clear a user's login lockout
//	eimshub backup [--config FILE] OUT   online copy of the embedded store
//	eimshub version                      print the version
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

const usage = `eimshub — the EIMS integration hub

Usage:
  eimshub serve [--config FILE]     start the hub (default config: $EIMSHUB_CONFIG or config/eimshub.example.yaml)
  eimshub config check FILE         validate a config file
  eimshub connector ID              serve the built-in connector ID as a plugin process (the hub runs this)
  eimshub plugin new NAME [--repo DIR] [--dir DIR]
                                    scaffold a new connector module
  eimshub user unlock [--config FILE] TENANT USER
                                    clear a user's password-login lockout (Redis cache)
  eimshub backup [--config FILE] OUT
                                    consistent online copy of the embedded SQLite store to OUT
  eimshub version                   print the version
`

// run is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(stderr)
		cfgPath := fs.String("config", "", "config file (default $EIMSHUB_CONFIG, else config/eimshub.example.yaml)")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		path := *cfgPath
		if path == "" {
			path = getenv("EIMSHUB_CONFIG")
		}
		if path == "" {
			path = "config/eimshub.example.yaml"
		}
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := serve(ctx, path, stderr, getenv, nil); err != nil {
			fmt.Fprintln(stderr, "eimshub:", err)
			return 1
		}
		return 0
	case "config":
		if len(args) != 3 || args[1] != "check" {
			fmt.Fprint(stderr, "usage: eimshub config check FILE\n")
			return 2
		}
		if err := checkConfig(args[2], getenv); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: OK\n", args[2])
		return 0
	case "connector":
		return runConnectorCmd(args[1:], stderr)
	case "plugin":
		return runPluginCmd(args[1:], stdout, stderr)
	case "user":
		return runUserCmd(ctx, args[1:], stdout, stderr, getenv)
	case "backup":
		return runBackupCmd(ctx, args[1:], stdout, stderr, getenv)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, versionLine())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "eimshub: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
