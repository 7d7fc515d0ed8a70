//go:build eimshub_pprof

// This file is compiled only into benchmark builds (go build -tags
// eimshub_pprof, as bench/load does): it serves net/http/pprof on
// $EIMSHUB_BENCH_PPROF for `eimshub serve` (and for one connector process,
// below). Release builds have no profiler
// endpoint.

package main

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
	"strings"
	"time"
)

func init() {
	addr := os.Getenv("EIMSHUB_BENCH_PPROF")
	// Plugin processes inherit the environment: only the server listens on
	// $EIMSHUB_BENCH_PPROF; `eimshub connector ID` listens on ADDR when
	// $EIMSHUB_BENCH_PPROF_CONNECTOR is ID=ADDR (the connector's own CPU,
	// which the hub's profile does not show).
	if len(os.Args) == 3 && os.Args[1] == "connector" {
		id, caddr, ok := strings.Cut(os.Getenv("EIMSHUB_BENCH_PPROF_CONNECTOR"), "=")
		if !ok || id != os.Args[2] {
			return
		}
		addr = caddr
	} else if addr == "" || len(os.Args) < 2 || os.Args[1] != "serve" {
		return
	}
	go func() {
		srv := &http.Server{Addr: addr, ReadHeaderTimeout: 10 * time.Second}
		if err := srv.ListenAndServe(); err != nil {
			slog.Error("bench pprof listener", "addr", addr, "err", err)
		}
	}()
}
