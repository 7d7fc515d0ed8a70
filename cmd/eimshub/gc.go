package main

import (
	"log/slog"
	"runtime/debug"
)

// applyGCPercent sets the garbage collector's target of the serving hub
// (server.gcPercent, issue 11 second pass) unless the environment sets
// GOGC, which then wins as it does for any Go program; gogc is the
// process's GOGC variable (the one the runtime read at start). Built-in
// connector processes get the same target as GOGC in their environment
// (startConnectors; the hub's own GOGC, inherited, wins there too);
// external plugins keep their own.
func applyGCPercent(percent int, gogc string, log *slog.Logger) {
	if gogc != "" {
		log.Info("garbage collector target from the environment; server.gcPercent not applied", "GOGC", gogc)
		return
	}
	debug.SetGCPercent(percent)
}
