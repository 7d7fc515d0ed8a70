package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Server CPU per request: the CPU time (user + system) the process that
// serves a route — the hub with its plugin processes, or the bare handler's
// process — spent during the measured window, divided by the requests
// answered in it. Unlike req/s it hardly depends on what else runs on the
// machine (other load slows the server down, it does not make it do more
// work), so it is the figure to compare between runs on a shared machine.
// Linux only (/proc); 0 elsewhere.

const clockTick = 10 * time.Millisecond // USER_HZ = 100 on Linux

// procCPU is utime+stime of pid.
func procCPU(pid int) time.Duration {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return 0
	}
	f := strings.Fields(s[i+2:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * clockTick
}

// treeCPU is the CPU time of pid and its live children (the hub's plugin
// processes).
func treeCPU(pid int) time.Duration {
	total := procCPU(pid)
	ents, _ := os.ReadDir("/proc")
	want := strconv.Itoa(pid)
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(raw)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 > len(s) {
			continue
		}
		if f := strings.Fields(s[i+2:]); len(f) > 1 && f[1] == want { // field 4: ppid
			total += procCPU(child)
		}
	}
	return total
}

// measureCPU samples treeCPU(pid) after warmup and again dur later, and
// sends the difference.
func measureCPU(pid int, warmup, dur time.Duration) <-chan time.Duration {
	ch := make(chan time.Duration, 1)
	go func() {
		time.Sleep(warmup)
		c0 := treeCPU(pid)
		time.Sleep(dur)
		ch <- treeCPU(pid) - c0
	}()
	return ch
}
