//go:build eimshub_pprof

// This file is compiled only into benchmark builds (go build -tags
// eimshub_pprof, as bench/load does): it serves net/http/pprof on
// $EIMSHUB_BENCH_PPROF for `eimshub serve`. Release builds have no profiler
// endpoint.

package main

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
	"time"
)

func init() {
	addr := os.Getenv("EIMSHUB_BENCH_PPROF")
	// Plugin processes inherit the environment: only the server listens.
	if addr == "" || len(os.Args) < 2 || os.Args[1] != "serve" {
		return
	}
	go func() {
		srv := &http.Server{Addr: addr, ReadHeaderTimeout: 10 * time.Second}
		if err := srv.ListenAndServe(); err != nil {
			slog.Error("bench pprof listener", "addr", addr, "err", err)
		}
	}()
}
