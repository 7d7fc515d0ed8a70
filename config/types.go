package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as a Go duration ("10s", "8h",
// "1h30m"), with a "d" suffix for days ("15d", "1d12h"), or as a bare
// integer number of seconds (28800).
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d, using days when d is a whole number of days.
func (d Duration) String() string {
	const day = 24 * time.Hour
	td := time.Duration(d)
	if td >= day && td%day == 0 {
		return strconv.FormatInt(int64(td/day), 10) + "d"
	}
	return td.String()
}

// ParseDuration parses the Duration syntax.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return 0, fmt.Errorf("duration %q out of range", s)
		}
		return Duration(time.Duration(n) * time.Second), nil
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 32)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return Duration(days), nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil || (days > 0 && v < 0) {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 10s, 15m, 8h, 15d)", s)
	}
	return Duration(days + v), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("expected a duration such as 10s, 15m, 8h or 15d")
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// ByteSize is a size in bytes written as a bare integer (1048576) or with a
// unit: B; KiB, MiB, GiB, TiB (powers of 1024, also K, M, G, T); KB, MB,
// GB, TB (powers of 1000). Units are case-insensitive; "1.5GiB" is allowed.
type ByteSize int64

// Binary size units.
const (
	KiB ByteSize = 1 << (10 * (iota + 1))
	MiB
	GiB
	TiB
)

var sizeUnits = map[string]float64{
	"b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

// ParseByteSize parses the ByteSize syntax.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" {
		return 0, fmt.Errorf("invalid size %q (use e.g. 512KiB, 10MiB, 1GiB)", s)
	}
	mult := 1.0
	if unit != "" {
		m, ok := sizeUnits[unit]
		if !ok {
			return 0, fmt.Errorf("invalid size %q: unknown unit %q", s, t[i:])
		}
		mult = m
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	v := f * mult
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q out of range", s)
	}
	return ByteSize(v), nil
}

// String formats b with the largest binary unit that divides it.
func (b ByteSize) String() string {
	for _, u := range []struct {
		n string
		v ByteSize
	}{{"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}} {
		if b >= u.v && b%u.v == 0 {
			return strconv.FormatInt(int64(b/u.v), 10) + u.n
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("expected a size such as 10MiB")
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

// SpaceList is a list of words written either as a YAML sequence or as one
// space-separated string ("openid profile api.readwrite").
type SpaceList []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *SpaceList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = strings.Fields(n.Value)
		return nil
	case yaml.SequenceNode:
		var s []string
		if err := n.Decode(&s); err != nil {
			return errors.New("expected a list of strings")
		}
		*l = s
		return nil
	}
	return errors.New("expected a list or a space-separated string")
}

// String joins the list with spaces.
func (l SpaceList) String() string { return strings.Join(l, " ") }

// Option is one choice of a select-like field, written as a string (value
// and label alike) or as {value, label}.
type Option struct {
	// Value is the stored value. Required.
	Value string `yaml:"value"`
	// Label is the display text. Default: the value.
	Label string `yaml:"label"`
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (o *Option) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*o = Option{Value: n.Value}
		return nil
	}
	type plain Option
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*o = Option(p)
	return nil
}

// Rate is a parsed rate string.
type Rate struct {
	// Limit is the number of requests allowed per Period.
	Limit int64
	// Period is one second, minute, hour or day.
	Period time.Duration
}

// ParseRate parses a rate in ulule/limiter format "<n>-<S|M|H|D>" (the
// period letter is case-insensitive), e.g. "100-S" or "1000-H".
func ParseRate(s string) (Rate, error) {
	n, p, ok := strings.Cut(s, "-")
	if !ok {
		return Rate{}, fmt.Errorf("invalid rate %q (want <n>-<S|M|H|D>, e.g. 100-S)", s)
	}
	limit, err := strconv.ParseInt(n, 10, 64)
	if err != nil || limit <= 0 || strings.HasPrefix(n, "+") {
		return Rate{}, fmt.Errorf("invalid rate %q: the limit must be a positive integer", s)
	}
	periods := map[string]time.Duration{"S": time.Second, "M": time.Minute, "H": time.Hour, "D": 24 * time.Hour}
	period, ok := periods[strings.ToUpper(p)]
	if !ok {
		return Rate{}, fmt.Errorf("invalid rate %q: the period must be S, M, H or D", s)
	}
	return Rate{Limit: limit, Period: period}, nil
}
