package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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

// ImageState selects container images by whether they are whole.
type ImageState string

// The image-state values.
const (
	AnyImage ImageState = "any"
	// Broken selects image indexes that list manifests which are not
	// active versions of their package (Structure.Missing).
	Broken ImageState = "broken"
)

// Rule is one validated retention rule (the rule inputs of policy.md).
// Its JSON encoding uses the input names.
//
// A Rule built by hand rather than by Parse may leave PackageType, TagState
// and AgeBasis empty: they then mean container, any and updated.
type Rule struct {
	// Packages are the package patterns as written; "!pattern" excludes.
	Packages    []string
	PackageType PackageType
	// Owner is the organisation or user; never empty after Parse (the
	// default owner is filled in). "@me" means the authenticated user.
	Owner    string
	TagState TagState
	// ImageState: AnyImage (or empty) or Broken.
	ImageState   ImageState
	DeleteTags   []Pattern
	DeleteSemver *Range
	// KeepLatest is the number of newest selected versions kept (0: none).
	KeepLatest int
	// OlderThan is the minimum age of a deleted version (0: any age).
	OlderThan  time.Duration
	AgeBasis   AgeBasis
	KeepTags   []Pattern
	KeepSemver *Range

	// pkgs caches the compiled Packages (set by Parse).
	pkgs *packageMatcher
	// olderThanText is older-than as written, for the JSON encoding.
	olderThanText string
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
	// DefaultPackage is the package a rule given as inputs covers when
	// packages is not given: the package named like the repository
	// (DefaultPackage of GITHUB_REPOSITORY). Empty: packages is required.
	// The rules of a policy file always name their packages.
	DefaultPackage string
}

// DefaultPackage returns the package named like the repository of
// GITHUB_REPOSITORY ("Acme/My-App" gives "my-app"): its name part,
// lower-cased as container package names are. It returns "" when repo is
// not owner/name.
func DefaultPackage(repo string) string {
	owner, name, ok := strings.Cut(strings.TrimSpace(repo), "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return ""
	}
	return strings.ToLower(name)
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
	// Deferred marks an incomplete package left for the next run because
	// of rate limits rather than failed.
	Deferred bool
	// Unresolved marks an incomplete input whose Name is a package name or
	// pattern of the policy that could not be resolved to packages (the
	// package could not be fetched, or the listing for the pattern
	// failed). It is in the plan whether or not a rule covers that name.
	Unresolved bool
	Versions   []Version
	// Structure is the container structure (nil: every version is a root).
	// It is ignored for other package types.
	Structure *Structure
	// Broken, when set, are the package's broken images as a repair saw
	// them, with what it did for each missing child; nil: Build finds
	// them in Structure (BrokenImages).
	Broken []BrokenImage
	// Protected lists versions known to be refused under GitHub's
	// 5,000-download rule: they are planned as protected (download-rule).
	Protected map[int64]bool
}

// Parse validates every input and returns the policy, or every problem
// found, each an *InputError naming its input, joined with errors.Join
// ("older-than: ...", or "policy-file retention.yml: rules[1].keep-latest:
// ..." for rule 1, counted from 0, of a policy file). Inputs Parse does not know (token, registry-url, restore-from,
// max-deletes-per-minute, ...) are ignored.
//
// With policy-file given, Inputs.PolicyFile must hold the file's content and
// no rule input may have a value (the file holds the rules). max-deletions
// and dry-run are always inputs of the action.
func Parse(in Inputs) (*Policy, error) {
	val := func(name string) string { return trimBlanks(in.Values[name]) }
	var errs []error
	p := &Policy{}
	if s := val(InMaxDeletions); s != "" {
		n, err := parseCount(s)
		if err != nil {
			errs = append(errs, InputErrorf(InMaxDeletions, "%q is not a whole number, 0 or more; use a number such as 500, or 0 for no cap", s))
		}
		p.MaxDeletions = n
	}
	if s := val(InDryRun); s != "" {
		switch strings.ToLower(s) {
		case "true":
			p.DryRun = true
		case "false":
		default:
			errs = append(errs, InputErrorf(InDryRun, "%q is not a boolean; use true or false", s))
		}
	}
	if file := val(InPolicyFile); file != "" {
		for _, name := range RuleInputs {
			if val(name) != "" {
				errs = append(errs, InputErrorf(name, "cannot be given beside policy-file; write it in the rules of %s instead", file))
			}
		}
		rules, ferrs := parseFile(in.PolicyFile, file, in.DefaultOwner)
		errs = append(errs, ferrs...)
		p.Rules = rules
	} else {
		get := func(name string) (rawValue, bool) {
			s := val(name)
			if name == InPackages && s == "" {
				if in.DefaultPackage == "" {
					return rawValue{noDefault: true}, false
				}
				s = in.DefaultPackage
			}
			return rawValue{s: s}, s != ""
		}
		r, rerrs := parseRule(get, ruleAt{rule: -1}, in.DefaultOwner)
		errs = append(errs, rerrs...)
		p.Rules = []Rule{r}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// rawValue is one rule input as given: a string, or a YAML or JSON list.
type rawValue struct {
	s      string
	list   []string
	isList bool
	// bad marks a value already reported as unusable (a YAML mapping, say).
	bad bool
	// noDefault marks packages not given where no default package is
	// known (Inputs.DefaultPackage empty).
	noDefault bool
}

// parseRule validates one rule. get returns an input's value and whether it
// was given; at says where the rule comes from, for its errors. Every
// problem is returned, in the order of the inputs.
func parseRule(get func(name string) (rawValue, bool), at ruleAt, defaultOwner string) (Rule, []error) {
	p := &ruleParser{get: get, at: at}
	var r Rule
	r.Packages, r.pkgs = p.packages()
	r.PackageType = p.packageType()
	r.Owner = p.owner(defaultOwner)
	r.TagState = p.tagState(r.PackageType)
	r.ImageState = p.imageState(r.PackageType)
	r.DeleteTags = p.patterns(InDeleteTags)
	r.DeleteSemver = p.semverRange(InDeleteSemver)
	r.KeepLatest = p.keepLatest()
	r.OlderThan, r.olderThanText = p.olderThan()
	r.AgeBasis = p.ageBasis()
	r.KeepTags = p.patterns(InKeepTags)
	r.KeepSemver = p.semverRange(InKeepSemver)
	return r, p.errs
}

// ruleParser reads the inputs of one rule, one method per input (or kind
// of input), and collects every problem instead of stopping at the first.
type ruleParser struct {
	get  func(name string) (rawValue, bool)
	at   ruleAt
	errs []error
	// badType is set when package-type was given and is not a type:
	// tag-state then does not check against it.
	badType bool
}

func (p *ruleParser) fail(name, format string, args ...any) {
	p.errs = append(p.errs, p.at.errorf(name, 0, format, args...))
}

// scalar returns the trimmed value of an input that takes one value, ""
// when not given or unusable.
func (p *ruleParser) scalar(name string) string {
	v, ok := p.get(name)
	if !ok || v.bad {
		return ""
	}
	if v.isList {
		p.fail(name, "expects one value, not a list")
		return ""
	}
	return trimBlanks(v.s)
}

// pieces returns the patterns of a list input as written, split.
func (p *ruleParser) pieces(name string) []string {
	v, ok := p.get(name)
	if !ok || v.bad {
		return nil
	}
	texts := []string{v.s}
	if v.isList {
		texts = v.list
	}
	var out []string
	failed := false
	for _, t := range texts {
		ps, err := splitPatterns(t)
		if err != nil {
			p.fail(name, "%v", err)
			failed = true
			continue
		}
		out = append(out, ps...)
	}
	if len(out) == 0 && !failed && name != InPackages {
		// Given, but no pattern in it (" , ", [] or ""): an empty
		// selector would select everything, so it is an error, never
		// "no selector".
		p.fail(name, "holds no pattern; give at least one, or leave %s out", name)
	}
	return out
}

// patterns compiles the version patterns of delete-tags or keep-tags.
func (p *ruleParser) patterns(name string) []Pattern {
	var out []Pattern
	for _, piece := range p.pieces(name) {
		pat, err := compilePattern(piece)
		if err != nil {
			p.fail(name, "%v", err)
			continue
		}
		out = append(out, pat)
	}
	return out
}

// semverRange parses delete-semver or keep-semver.
func (p *ruleParser) semverRange(name string) *Range {
	s := p.scalar(name)
	if s == "" {
		return nil
	}
	r, err := ParseRange(s)
	if err != nil {
		p.fail(name, "%v; use a range such as <2.0.0 or >=1.0.0-0 <1.5.0", err)
	}
	return r
}

// packages reads packages: the entries as written and their matcher.
func (p *ruleParser) packages() ([]string, *packageMatcher) {
	start := len(p.errs)
	var written []string
	var m packageMatcher
	for _, piece := range p.pieces(InPackages) {
		w, inc, exc, err := compilePackagePattern(piece)
		if err != nil {
			p.fail(InPackages, "%v", err)
			continue
		}
		written = append(written, w)
		if inc.text != "" {
			m.include = append(m.include, inc)
		} else {
			m.exclude = append(m.exclude, exc)
		}
	}
	v, _ := p.get(InPackages)
	switch {
	case len(written) == 0 && len(p.errs) == start && !v.bad && v.noDefault:
		p.fail(InPackages, "no package given, and GITHUB_REPOSITORY is not set to default to the repository's package; name one or more packages or glob patterns, e.g. app or app-*")
	case len(written) == 0 && len(p.errs) == start && !v.bad:
		p.fail(InPackages, "no package given; name one or more packages or glob patterns, e.g. app or app-*")
	case len(written) > 0 && len(m.include) == 0:
		p.fail(InPackages, "only exclusions given; name the packages to include too, e.g. * and !legacy")
	}
	return written, &m
}

func (p *ruleParser) packageType() PackageType {
	s := p.scalar(InPackageType)
	if s == "" {
		return Container
	}
	t := PackageType(strings.ToLower(s))
	if !slices.Contains(PackageTypes, t) {
		p.badType = true
		p.fail(InPackageType, "%q is not a package type; use container, npm, maven, rubygems, nuget or docker", s)
	}
	return t
}

func (p *ruleParser) owner(defaultOwner string) string {
	owner := p.scalar(InOwner)
	switch {
	case owner == "" && defaultOwner == "":
		p.fail(InOwner, "no owner given and GITHUB_REPOSITORY_OWNER is not set")
	case owner == "":
		return defaultOwner
	case !validOwner(owner):
		p.fail(InOwner, "%q is not an organisation or user name; use a login such as acme, or @me for the authenticated user", owner)
	}
	return owner
}

func (p *ruleParser) tagState(typ PackageType) TagState {
	s := p.scalar(InTagState)
	if s == "" {
		return AnyState
	}
	switch t := TagState(strings.ToLower(s)); t {
	case AnyState, Tagged, Untagged:
		if t != AnyState && !p.badType && typ != Container {
			p.fail(InTagState, "%q applies to container packages only; every %s version is tagged by its name, so leave tag-state empty or use delete-tags", s, typ)
		}
		return t
	}
	p.fail(InTagState, "%q is not a tag state; use any, tagged or untagged", s)
	return AnyState
}

func (p *ruleParser) imageState(typ PackageType) ImageState {
	s := p.scalar(InImageState)
	if s == "" {
		return AnyImage
	}
	switch t := ImageState(strings.ToLower(s)); t {
	case AnyImage, Broken:
		if t != AnyImage && !p.badType && typ != Container {
			p.fail(InImageState, "%q applies to container packages only; a %s version is not an image index, so leave image-state empty", s, typ)
		}
		return t
	}
	p.fail(InImageState, "%q is not an image state; use any or broken", s)
	return AnyImage
}

func (p *ruleParser) keepLatest() int {
	s := p.scalar(InKeepLatest)
	if s == "" {
		return 0
	}
	n, err := parseCount(s)
	if err != nil {
		p.fail(InKeepLatest, "%q is not a whole number, 0 or more; use a number such as 10", s)
	}
	return n
}

// olderThan returns the duration and its text as written.
func (p *ruleParser) olderThan() (time.Duration, string) {
	s := p.scalar(InOlderThan)
	if s == "" {
		return 0, ""
	}
	d, err := ParseDuration(s)
	switch {
	case err != nil:
		p.fail(InOlderThan, "%q is not a duration; use a number with m, h, d or w (e.g. 30d)", s)
	case d <= 0:
		p.fail(InOlderThan, "%q is zero; use a duration above zero (e.g. 30d), or leave older-than empty to delete at any age", s)
	}
	return d, s
}

func (p *ruleParser) ageBasis() AgeBasis {
	s := p.scalar(InAgeBasis)
	if s == "" {
		return Updated
	}
	switch b := AgeBasis(strings.ToLower(s)); b {
	case Updated, Created:
		return b
	}
	p.fail(InAgeBasis, "%q is not an age basis; use updated or created", s)
	return Updated
}

// parseCount parses a whole number, 0 or more.
func parseCount(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, errors.New("negative")
	}
	return n, nil
}

// validOwner accepts "@me" and GitHub logins: letters, digits, '-', and the
// '_' and '.' of enterprise managed users, starting with a letter or digit.
func validOwner(s string) bool {
	if s == "@me" {
		return true
	}
	if len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '-' && c != '_' && c != '.') {
			return false
		}
	}
	return s != ""
}

// packageMatcher is the compiled Packages of a rule.
type packageMatcher struct {
	include, exclude []Pattern
}

func (m *packageMatcher) match(name string) bool {
	hit := false
	for i := range m.include {
		if m.include[i].Match(name) {
			hit = true
			break
		}
	}
	if !hit {
		return false
	}
	for i := range m.exclude {
		if m.exclude[i].Match(name) {
			return false
		}
	}
	return true
}

// compilePackagePattern compiles one entry of packages: a pattern, or
// "!pattern" that excludes. It returns the entry as it is recorded.
func compilePackagePattern(piece string) (written string, include, exclude Pattern, err error) {
	neg := strings.HasPrefix(piece, "!")
	body := piece
	if neg {
		body = trimBlanks(piece[1:])
		if body == "" {
			return "", Pattern{}, Pattern{}, errors.New(`"!" excludes nothing; write !name or !pattern`)
		}
	}
	p, err := compilePattern(body)
	if err != nil {
		return "", Pattern{}, Pattern{}, err
	}
	if p.digest {
		return "", Pattern{}, Pattern{}, fmt.Errorf("%q is a digest pattern, which matches versions; name packages here", body)
	}
	if neg {
		return "!" + body, Pattern{}, p, nil
	}
	return body, p, Pattern{}, nil
}

func compilePackages(entries []string) *packageMatcher {
	var m packageMatcher
	for _, e := range entries {
		ps, err := splitPatterns(e)
		if err != nil {
			continue
		}
		for _, piece := range ps {
			_, inc, exc, err := compilePackagePattern(piece)
			switch {
			case err != nil:
			case inc.text != "":
				m.include = append(m.include, inc)
			default:
				m.exclude = append(m.exclude, exc)
			}
		}
	}
	return &m
}

func (r *Rule) matcher() *packageMatcher {
	if r.pkgs != nil {
		return r.pkgs
	}
	return compilePackages(r.Packages)
}

// Covers reports whether the rule applies to the package: same owner
// (compared case-insensitively, as GitHub logins are), same type, and a
// name that matches an include pattern of packages and no "!" exclusion.
// Package globs match the whole name and their '*' also matches '/'.
func (r *Rule) Covers(owner string, typ PackageType, name string) bool {
	if !strings.EqualFold(owner, r.Owner) || typ != r.packageType() {
		return false
	}
	return r.matcher().match(name)
}

// MatchesPackage reports whether the package name matches the rule's
// packages (owner and type are not checked; see Covers).
func (r *Rule) MatchesPackage(name string) bool { return r.matcher().match(name) }

// PackagePatterns returns the rule's package patterns: those that include
// and, without their "!", those that exclude. A pattern whose HasGlob is
// false names one package (Literal), which the caller can report as missing
// when the owner has no such package.
func (r *Rule) PackagePatterns() (include, exclude []Pattern) {
	m := r.matcher()
	return append([]Pattern(nil), m.include...), append([]Pattern(nil), m.exclude...)
}

func (r *Rule) packageType() PackageType {
	if r.PackageType == "" {
		return Container
	}
	return r.PackageType
}

func (r *Rule) tagState() TagState {
	if r.TagState == "" {
		return AnyState
	}
	return r.TagState
}

// ruleJSON is the JSON shape of a Rule: input names, unset fields omitted.
type ruleJSON struct {
	Packages     []string  `json:"packages,omitempty"`
	PackageType  string    `json:"package-type,omitempty"`
	Owner        string    `json:"owner,omitempty"`
	TagState     string    `json:"tag-state,omitempty"`
	ImageState   string    `json:"image-state,omitempty"`
	DeleteTags   []Pattern `json:"delete-tags,omitempty"`
	DeleteSemver *Range    `json:"delete-semver,omitempty"`
	KeepLatest   int       `json:"keep-latest,omitempty"`
	OlderThan    string    `json:"older-than,omitempty"`
	AgeBasis     string    `json:"age-basis,omitempty"`
	KeepTags     []Pattern `json:"keep-tags,omitempty"`
	KeepSemver   *Range    `json:"keep-semver,omitempty"`
}

// MarshalJSON encodes the rule with the input names as keys, omitting
// inputs left unset or at their default (tag-state any, age-basis
// updated). Patterns, ranges and older-than are written as the user wrote
// them (older-than by FormatDuration for a rule not made by Parse).
func (r Rule) MarshalJSON() ([]byte, error) {
	j := ruleJSON{
		Packages:     r.Packages,
		PackageType:  string(r.packageType()),
		Owner:        r.Owner,
		DeleteTags:   r.DeleteTags,
		DeleteSemver: r.DeleteSemver,
		KeepLatest:   r.KeepLatest,
		AgeBasis:     string(r.AgeBasis),
		KeepTags:     r.KeepTags,
		KeepSemver:   r.KeepSemver,
	}
	if ts := r.tagState(); ts != AnyState {
		j.TagState = string(ts)
	}
	if r.ImageState == Broken {
		j.ImageState = string(Broken)
	}
	if r.AgeBasis == Updated {
		j.AgeBasis = ""
	}
	if r.OlderThan != 0 {
		j.OlderThan = FormatDuration(r.OlderThan)
		if d, err := ParseDuration(r.olderThanText); err == nil && d == r.OlderThan {
			j.OlderThan = r.olderThanText
		}
	}
	return marshalJSON(j)
}

// UnmarshalJSON reads a rule written by MarshalJSON and validates it as
// Parse does (the owner must be present). Unknown keys are ignored.
func (r *Rule) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("rule: %w", err)
	}
	values := map[string]rawValue{}
	var errs []error
	for _, name := range RuleInputs {
		raw, ok := m[name]
		if !ok || string(raw) == "null" {
			continue
		}
		var v rawValue
		var s string
		var n json.Number
		switch {
		case json.Unmarshal(raw, &s) == nil:
			v.s = s
		case json.Unmarshal(raw, &v.list) == nil:
			v.isList = true
		case json.Unmarshal(raw, &n) == nil:
			v.s = n.String()
		default:
			errs = append(errs, InputErrorf(name, "expects a string, a list of strings or a number"))
			continue
		}
		values[name] = v
	}
	get := func(name string) (rawValue, bool) {
		v, ok := values[name]
		return v, ok
	}
	rule, rerrs := parseRule(get, ruleAt{rule: -1}, "")
	if errs = append(errs, rerrs...); len(errs) > 0 {
		return errors.Join(errs...)
	}
	*r = rule
	return nil
}

type policyJSON struct {
	Rules        []Rule `json:"rules"`
	MaxDeletions int    `json:"max-deletions"`
	DryRun       bool   `json:"dry-run"`
}

// MarshalJSON encodes the policy as
// {"rules":[...],"max-deletions":N,"dry-run":bool}.
func (p Policy) MarshalJSON() ([]byte, error) {
	rules := p.Rules
	if rules == nil {
		rules = []Rule{}
	}
	return marshalJSON(policyJSON{Rules: rules, MaxDeletions: p.MaxDeletions, DryRun: p.DryRun})
}

// UnmarshalJSON reads a policy written by MarshalJSON, validating every
// rule.
func (p *Policy) UnmarshalJSON(b []byte) error {
	var j policyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.MaxDeletions < 0 {
		return InputErrorf(InMaxDeletions, "must be 0 or more")
	}
	*p = Policy(j)
	return nil
}
