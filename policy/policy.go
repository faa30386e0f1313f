package policy

import (
	"errors"
	"time"
)

// TagState selects container versions by whether they carry tags.
type TagState string

// The tag-state values.
const (
	AnyState TagState = "any"
	Tagged   TagState = "tagged"
	Untagged TagState = "untagged"
)

// AgeBasis names the timestamp that ages a version.
type AgeBasis string

// The age-basis values.
const (
	Updated AgeBasis = "updated"
	Created AgeBasis = "created"
)

// Rule is one validated retention rule (the rule inputs of policy.md).
// Its JSON encoding uses the input names.
type Rule struct {
	// Packages are the package patterns as written; "!pattern" excludes.
	Packages    []string
	PackageType PackageType
	// Owner is the organisation or user; never empty after Parse (the
	// default owner is filled in). "@me" means the authenticated user.
	Owner        string
	TagState     TagState
	DeleteTags   []Pattern
	DeleteSemver *Range
	// KeepLatest is the number of newest selected versions kept (0: none).
	KeepLatest int
	// OlderThan is the minimum age of a deleted version (0: any age).
	OlderThan  time.Duration
	AgeBasis   AgeBasis
	KeepTags   []Pattern
	KeepSemver *Range
}

// Policy is the validated policy of a run: one rule from the action's inputs,
// or several from a policy file, plus the run-wide settings.
type Policy struct {
	Rules []Rule
	// MaxDeletions caps the deletions of one run (0: no cap).
	MaxDeletions int
	DryRun       bool
}

// Inputs is what Parse reads: the raw values of the action's inputs by name
// (an empty or missing value means "not given"), the content of the file
// named by the policy-file input (read by the caller), and the owner to use
// where a rule names none.
type Inputs struct {
	Values       map[string]string
	PolicyFile   []byte
	DefaultOwner string
}

// Pattern is one tag pattern: an anchored glob, an anchored RE2 regular
// expression written /.../, or a sha256: digest pattern (containers).
type Pattern struct { /* filled by the implementation */
}

// Range is a parsed semver constraint (Masterminds/semver/v3 syntax).
type Range struct { /* filled by the implementation */
}

// PackageInput is everything the planner knows of one package.
type PackageInput struct {
	Owner      string
	Type       PackageType
	Name       string
	Visibility string
	// Complete is false when the listing failed; Error says why. Nothing in
	// an incomplete package is deleted.
	Complete bool
	Error    string
	Versions []Version
	// Structure is the container structure (nil: every version is a root).
	Structure *Structure
	// Protected lists versions known to be refused under GitHub's
	// 5,000-download rule: they are planned as protected (download-rule).
	Protected map[int64]bool
}

var errTODO = errors.New("not implemented")

// Parse validates every input and returns the policy, or every problem
// found joined with errors.Join, each naming its input.
func Parse(in Inputs) (*Policy, error) { return nil, errTODO }

// Covers reports whether the rule applies to the package.
func (r *Rule) Covers(owner string, typ PackageType, name string) bool { return false }

// Build plans every package: the decision and reason for every version,
// newest first, with max-deletions applied across packages (oldest first).
func Build(p *Policy, pkgs []PackageInput, now time.Time) *Plan { return nil }
