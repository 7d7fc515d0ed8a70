package main

import (
	"io"
	"log/slog"
	"runtime/debug"
	"testing"
)

// server.gcPercent is applied unless GOGC is set in the environment.
func TestApplyGCPercent(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig) })
	for _, tc := range []struct {
		name    string
		percent int
		gogc    string
		want    int
	}{
		{"config applies", 400, "", 400},
		{"another value", 150, "", 150},
		{"GOGC wins", 400, "100", 100},
		{"GOGC=off wins", 400, "off", 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			applyGCPercent(tc.percent, tc.gogc, log)
			if got := debug.SetGCPercent(100); got != tc.want {
				t.Fatalf("GC percent %d, want %d", got, tc.want)
			}
		})
	}
}
