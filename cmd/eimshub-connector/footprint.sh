#!/bin/sh
# footprint.sh HUB — size and idle memory of a built-in connector process.
# Starts HUB (with eimshub-connector next to it, as `make build` leaves it)
# on a throwaway config that enables the H3Yun connector as a process, once
# with builtinConnectors.command unset (the small binary) and once with
# "self" (the hub re-executed as `eimshub connector h3yun`), waits for the
# plugin to start, idles 2 s and prints the plugin's /proc/PID/status
# VmRSS, RssAnon (private heap and stacks) and RssFile (mapped binary
# pages, shared with the page cache).
set -eu
hub=$(readlink -f "$1")
conn=$(dirname "$hub")/eimshub-connector
printf '%-22s %10s\n' binary bytes
for b in "$hub" "$conn"; do printf '%-22s %10s\n' "$(basename "$b")" "$(stat -c %s "$b")"; done
for mode in small self; do
	dir=$(mktemp -d)
	cmd=""; [ "$mode" = self ] && cmd="builtinConnectors: {command: self}"
	printf 'server: {listen: 127.0.0.1:0}\ndataDir: %s/data\nconnectors: {h3yun: {isolation: process}}\n%s\n' "$dir" "$cmd" >"$dir/c.yaml"
	"$hub" serve --config "$dir/c.yaml" >"$dir/log" 2>&1 &
	pid=$!
	child=""
	for _ in $(seq 100); do
		grep -q 'connector started' "$dir/log" && child=$(pgrep -P "$pid" | head -1) && break
		sleep 0.1
	done
	[ -n "$child" ] || { cat "$dir/log"; kill "$pid"; exit 1; }
	sleep 2
	echo "$mode: $(readlink "/proc/$child/exe") $(grep -E 'VmRSS|RssAnon|RssFile' "/proc/$child/status" | tr -s ' \t\n' ' ')"
	kill "$pid"; wait "$pid" 2>/dev/null || true
	rm -rf "$dir"
done
