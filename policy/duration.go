package policy

import (
	"errors"
	"math"
	"strconv"
	"time"
)

// Duration units of older-than, largest first.
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

var durationUnits = [...]struct {
	unit byte
	d    time.Duration
}{{'w', Week}, {'d', Day}, {'h', time.Hour}, {'m', time.Minute}}

// ParseDuration parses a duration written as one or more whole numbers each
// followed by a unit: m (minutes), h (hours), d (days of 24 hours) or
// w (weeks of 7 days), e.g. 90m, 36h, 30d, 2w, 1w3d. Units are lower case (M
// is not minutes: it would read as months) and may come in any order; the
// parts add up. Blanks around the text are ignored, inside it they are not.
// Zero ("0d") parses; callers that need a positive value check it.
func ParseDuration(s string) (time.Duration, error) {
	s = trimBlanks(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	var total time.Duration
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i {
			return 0, errors.New("expected a number")
		}
		if j == len(s) {
			return 0, errors.New("a number has no unit")
		}
		var unit time.Duration
		for _, u := range durationUnits {
			if s[j] == u.unit {
				unit = u.d
			}
		}
		if unit == 0 {
			return 0, errors.New("unknown unit")
		}
		n, err := strconv.ParseUint(s[i:j], 10, 63)
		if err != nil || n > uint64(math.MaxInt64/int64(unit)) {
			return 0, errors.New("too long")
		}
		part := time.Duration(n) * unit
		if total > math.MaxInt64-part {
			return 0, errors.New("too long")
		}
		total += part
		i = j + 1
	}
	return total, nil
}

// FormatDuration writes d in the largest unit of ParseDuration that divides
// it exactly (2w, 30d, 36h, 90m), so that ParseDuration reads it back. A
// negative duration or one that is not a whole number of minutes cannot be
// written so; it is written in Go's syntax (time.Duration.String).
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0m"
	}
	if d < 0 || d%time.Minute != 0 {
		return d.String()
	}
	for _, u := range durationUnits {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + string(u.unit)
		}
	}
	return d.String()
}

func trimBlanks(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
