package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Range is a semver range in Masterminds/semver/v3 syntax: comparisons
// (=, !=, >, <, >=, <=), ~ and ^ ranges, x wildcards, "1.2 - 1.4" hyphen
// ranges, AND with a space or a comma and OR with ||.
//
// Pre-releases follow Masterminds: a version with a pre-release (1.5.0-rc.1)
// satisfies a range only if the AND group it is checked against itself
// names a pre-release. So "<2.0.0" does not match 1.5.0-rc.1, while
// ">=1.0.0-0 <2.0.0" matches every 1.x release and pre-release.
//
// Labels are read as versions with Masterminds' NewVersion: an optional
// leading v, one to three numbers (1.2 is 1.2.0, 7 is 7.0.0), an optional
// -pre-release and +build. A label that does not parse never satisfies a
// range; note that a purely numeric tag such as 20240101 parses as
// 20240101.0.0.
//
// String returns the text as written and the JSON encoding is that text.
type Range struct {
	text string
	c    *semver.Constraints
}

// ParseRange parses a range. Surrounding blanks are trimmed.
func ParseRange(s string) (r *Range, err error) {
	s = trimBlanks(s)
	if s == "" {
		return nil, errors.New("empty range")
	}
	defer func() {
		// The parser is a third-party one; a panic on odd input must
		// become an input error, not a crash.
		if v := recover(); v != nil {
			r, err = nil, fmt.Errorf("%q is not a valid range", s)
		}
	}()
	c, err := semver.NewConstraint(s)
	if err != nil {
		if strings.HasPrefix(err.Error(), "improper constraint") {
			return nil, fmt.Errorf("%q is not a valid range", s)
		}
		return nil, fmt.Errorf("%q is not a valid range: %v", s, err)
	}
	return &Range{text: s, c: c}, nil
}

// String returns the range as written.
func (r *Range) String() string {
	if r == nil {
		return ""
	}
	return r.text
}

// Match reports whether the label parses as a version (see Range) that
// satisfies the range.
func (r *Range) Match(label string) bool {
	v := parseLabelVersion(label)
	return v != nil && r.check(v)
}

func (r *Range) check(v *semver.Version) bool {
	if r == nil || r.c == nil || v == nil {
		return false
	}
	return r.c.Check(v)
}

// parseLabelVersion reads a label as a version, or returns nil.
func parseLabelVersion(label string) *semver.Version {
	if label == "" {
		return nil
	}
	if c := label[0]; c != 'v' && (c < '0' || c > '9') {
		return nil // fast path: most tags (latest, main, pr-12) are no version
	}
	v, err := semver.NewVersion(label)
	if err != nil {
		return nil
	}
	return v
}

// MarshalJSON encodes the range as the text written.
func (r *Range) MarshalJSON() ([]byte, error) { return marshalJSON(r.String()) }

// UnmarshalJSON parses a range from a JSON string.
func (r *Range) UnmarshalJSON(b []byte) error {
	q, err := unmarshalParsed(b, "range", ParseRange)
	if err == nil {
		*r = *q
	}
	return err
}
