package files

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/eimshub/eimshub/core/errs"
)

// Limits on names (§3.1).
const (
	MaxFolderLen = 200
	MaxNameLen   = 255 // bytes
)

// reservedNames are Windows device names, refused as file names and folder
// segments (with or without an extension).
var reservedNames = map[string]bool{"CON": true, "PRN": true, "AUX": true, "NUL": true, "CONIN$": true, "CONOUT$": true}

func init() {
	for _, p := range []string{"COM", "LPT"} {
		for i := '0'; i <= '9'; i++ {
			reservedNames[p+string(i)] = true
		}
		for _, s := range []string{"¹", "²", "³"} {
			reservedNames[p+s] = true
		}
	}
}

func badName(target, format string, args ...any) error {
	return errs.Invalidf(format, args...).WithReason("invalid_request").WithTarget(target)
}

// checkSegment validates one file name or folder segment.
func checkSegment(s, target string) error {
	switch {
	case s == "":
		return badName(target, "%s must not be empty", target)
	case !utf8.ValidString(s):
		return badName(target, "%s is not valid UTF-8", target)
	case s == "." || s == "..":
		return badName(target, "%s must not be %q (path traversal)", target, s)
	case len(s) > MaxNameLen:
		return badName(target, "%s is longer than %d bytes", target, MaxNameLen)
	}
	for _, r := range s {
		switch {
		case r == 0:
			return badName(target, "%s contains a NUL character", target)
		case r == '/' || r == '\\':
			return badName(target, "%s must not contain path separators", target)
		case r < 0x20 || r == 0x7f || unicode.Is(unicode.Cc, r) || r == '\u2028' || r == '\u2029' ||
			(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			return badName(target, "%s contains control characters", target)
		case r == ':' || r == '*' || r == '?' || r == '"' || r == '<' || r == '>' || r == '|':
			return badName(target, "%s contains a reserved character %q", target, r)
		}
	}
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, " ") || strings.TrimSpace(s) == "" {
		return badName(target, "%s must not end with a dot or a space", target)
	}
	base := strings.ToUpper(s)
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	if reservedNames[strings.TrimSpace(base)] {
		return badName(target, "%s %q is a reserved device name", target, s)
	}
	return nil
}

// CleanFileName validates an uploaded file's name: a single name (no
// directories, no absolute or drive paths), no NUL or control characters,
// not "." or "..", not a reserved device name (CON, NUL, COM1, …).
func CleanFileName(name string) (string, error) {
	if len(name) >= 2 && name[1] == ':' {
		return "", badName("fileName", "fileName must not be an absolute path")
	}
	if err := checkSegment(name, "fileName"); err != nil {
		return "", err
	}
	return name, nil
}

// CleanFolder validates a logical folder (§3.1): "" or "/" is the root "/";
// otherwise '/'-separated relative segments (no leading '/', no '\', no
// drive letters, no empty, "." or ".." segments), at most 200 characters.
// A trailing '/' is dropped.
func CleanFolder(folder string) (string, error) {
	if folder == "" || folder == "/" {
		return "/", nil
	}
	if utf8.RuneCountInString(folder) > MaxFolderLen {
		return "", badName("folder", "folder is longer than %d characters", MaxFolderLen)
	}
	if strings.HasPrefix(folder, "/") || strings.HasPrefix(folder, "\\") || (len(folder) >= 2 && folder[1] == ':') {
		return "", badName("folder", "folder must be a relative path, not an absolute one")
	}
	trimmed := strings.TrimSuffix(folder, "/")
	for _, seg := range strings.Split(trimmed, "/") {
		if err := checkSegment(seg, "folder"); err != nil {
			return "", err
		}
	}
	return trimmed, nil
}

// extOf returns the file extension (with the dot) when it is short and
// plain ASCII letters/digits, else "".
func extOf(name string) string {
	ext := path.Ext(name)
	if len(ext) < 2 || len(ext) > 16 {
		return ""
	}
	for _, r := range ext[1:] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return ""
		}
	}
	return strings.ToLower(ext)
}
