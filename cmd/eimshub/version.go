package main

import (
	"runtime/debug"
	"strings"
)

// version is the hub's version. The Makefile sets it from `git describe`
// (-ldflags "-X main.version=v0.3.0-4-gabc1234"); a plain `go build` or
// `go install` leaves it empty and init takes it from the build info: the
// module version (go install …@v1.2.3), else the VCS revision and whether
// the tree was modified.
var version string

func init() {
	if version == "" {
		bi, _ := debug.ReadBuildInfo()
		version = versionFromBuildInfo(bi)
	}
}

// versionFromBuildInfo derives a version from Go's build information.
func versionFromBuildInfo(bi *debug.BuildInfo) string {
	if bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "dev-" + rev
	if modified == "true" {
		v += "-dirty"
	}
	return v
}

// versionLine is what `eimshub version` prints: the version, the Go
// toolchain and the platform.
func versionLine() string {
	var b strings.Builder
	b.WriteString("eimshub ")
	b.WriteString(version)
	if bi, ok := debug.ReadBuildInfo(); ok {
		b.WriteString(" (")
		b.WriteString(bi.GoVersion)
		for _, s := range bi.Settings {
			if s.Key == "GOOS" || s.Key == "GOARCH" {
				b.WriteString(" ")
				b.WriteString(s.Value)
			}
		}
		b.WriteString(")")
	}
	return b.String()
}
