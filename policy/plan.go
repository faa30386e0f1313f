package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// PackageType is one of the six GitHub Packages ecosystems.
type PackageType string

// The package types GitHub Packages knows.
const (
	Container PackageType = "container"
	Npm       PackageType = "npm"
	Maven     PackageType = "maven"
	Rubygems  PackageType = "rubygems"
	Nuget     PackageType = "nuget"
	Docker    PackageType = "docker"
)

// PackageTypes lists every valid PackageType, in the order the docs use.
var PackageTypes = []PackageType{Container, Npm, Maven, Rubygems, Nuget, Docker}

// Version is one package version as the REST API returns it, reduced to what
// the policy needs. For containers Name is the manifest digest and Tags its
// tags; for every other type Tags is empty and Name is the version string.
type Version struct {
	ID        int64
	Name      string
	Tags      []string
	CreatedAt time.Time
	UpdatedAt time.Time
	// DeletedAt is when a deleted version was deleted (listed with
	// state=deleted); zero for an active one.
	DeletedAt time.Time
}

// Structure says which container versions belong to which: Parents maps a
// version ID to the IDs of the versions that reference it (an image index
// referencing a platform manifest, an image referencing its signature or
// attestation). A version with no entry is its own root. Unreadable lists
// versions whose manifest could not be read: the planner keeps them and
// every version whose fate depends on them (fail closed).
// A nil *Structure means every version is its own root.
type Structure struct {
	Parents    map[int64][]int64
	Unreadable map[int64]string // version ID -> why it could not be read
	// Missing maps the ID of an index read to the digests of the
	// manifests it lists that are not active versions of the package and
	// that the registry no longer has (404): deleted before this run, by
	// hand or by another tool. Such an index is a broken image (it no
	// longer pulls).
	Missing map[int64][]string
}

// BrokenImage is an image index, tagged or kept, that lists manifests
// which are not active versions of its package: it no longer pulls.
// Missing is in the order the index lists them.
type BrokenImage struct {
	ID      int64          `json:"id"`
	Digest  string         `json:"digest"`
	Tags    []string       `json:"tags"`
	Missing []MissingChild `json:"missing"`
}

// MissingChild is one manifest a broken image lists and its package no
// longer holds. DeletedAt and VersionID are known when the package's
// deleted versions were listed (repair); Repair says what repair did or
// would do: see the Repair* constants.
type MissingChild struct {
	Digest    string     `json:"digest"`
	VersionID int64      `json:"version_id,omitempty"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	Repair    string     `json:"repair,omitempty"`
}

// Repair outcomes of a missing child (MissingChild.Repair), set when the
// run repairs (repair input). A restore GitHub refused is
// "restore-refused:<message>" (not retried).
const (
	RepairRestored      = "restored"
	RepairWouldRestore  = "would-restore"
	RepairNotRestorable = "not-restorable"
	RepairDeferred      = "deferred"
	RepairRefusedPrefix = "restore-refused:"
	// RepairNotNeeded: the policy deletes the image whole, healed or not,
	// so its missing manifests are not restored only to be deleted again.
	RepairNotNeeded = "not-needed"
)

// Healed reports whether every missing child of b was restored.
func (b *BrokenImage) Healed() bool {
	for _, m := range b.Missing {
		if m.Repair != RepairRestored {
			return false
		}
	}
	return len(b.Missing) > 0
}

// WouldHeal reports whether every missing child of b was restored, or in
// a dry run would be: what a dry run previews as healed.
func (b *BrokenImage) WouldHeal() bool {
	for _, m := range b.Missing {
		if m.Repair != RepairRestored && m.Repair != RepairWouldRestore {
			return false
		}
	}
	return len(b.Missing) > 0
}

// Decision is what the plan says about one version.
type Decision string

// The three decisions of a plan.
const (
	Delete    Decision = "delete"
	Keep      Decision = "keep"
	Protected Decision = "protected"
)

// Reasons recorded in a plan. Parametrised reasons are a prefix below
// followed by a value: "keep-tags:<pattern>", "keep-semver:<range>" (both as
// the user wrote them), "child-of:<digest>".
const (
	ReasonKeepTagsPrefix   = "keep-tags:"
	ReasonKeepSemverPrefix = "keep-semver:"
	ReasonChildOfPrefix    = "child-of:"

	ReasonKeepLatest   = "keep-latest"
	ReasonYoungerThan  = "younger-than"
	ReasonNotSelected  = "not-selected"
	ReasonLastVersion  = "last-version"
	ReasonDownloadRule = "download-rule"
	ReasonMaxDeletions = "max-deletions"
	// ReasonSelected is the reason of a delete decision: the rule(s) selected
	// the version and nothing kept it.
	ReasonSelected = "selected"
	// ReasonUnreadable keeps a container version whose structure could not
	// be read from the registry (fail closed).
	ReasonUnreadable = "manifest-unreadable"
	// ReasonBuildInFlight keeps an untagged container root created less
	// than BuildInFlightAge before the run: the platform manifests of a
	// build whose tagged index is not pushed yet, whatever the policy says.
	ReasonBuildInFlight = "build-in-flight"
	// ReasonInUseSinceListing keeps a version the run planned to delete
	// but found, when it re-checked the registry before the DELETE, tagged
	// or listed by a tagged index pushed since the listing. The run sets
	// it (not the planner); the next run judges the version afresh.
	ReasonInUseSinceListing = "in-use-since-listing"
)

// BuildInFlightAge is the age under which an untagged container root is
// never deleted (ReasonBuildInFlight). A build pushes its platform
// manifests untagged and its tagged index moments later; a matrix build
// that pushes each platform by digest and merges them in a later job
// leaves them untagged for as long as its slowest platform builds. One
// hour covers both; superseded builds are only deferred to a later run.
const BuildInFlightAge = time.Hour

// Result values recorded after execution. Failed results are
// "failed:<message>".
const (
	ResultDeleted      = "deleted"
	ResultAlreadyGone  = "already-gone"
	ResultProtected    = "protected"
	ResultDeferred     = "deferred"
	ResultFailedPrefix = "failed:"
	// ResultRestored and ResultRestoreSkipped are written by a restore run.
	ResultRestored       = "restored"
	ResultRestoreSkipped = "restore-skipped"
)

// Plan is the whole deletion plan of a run. Its JSON encoding is the plan
// file of policy.md: field names are a public contract.
type Plan struct {
	Packages  []PackagePlan `json:"packages"`
	Policy    *Policy       `json:"policy"`
	StartedAt time.Time     `json:"started_at"`
	DryRun    bool          `json:"dry_run"`
}

// PackagePlan is the plan for one package. Complete is false when the
// listing failed: such a package has Error set and nothing in it is deleted.
type PackagePlan struct {
	Owner      string      `json:"owner"`
	Type       PackageType `json:"type"`
	Name       string      `json:"name"`
	Visibility string      `json:"visibility"`
	Complete   bool        `json:"complete"`
	Error      string      `json:"error,omitempty"`
	// Deferred marks an incomplete package that was not listed because
	// GitHub's rate limits stopped the run: it is left for the next run,
	// not failed.
	Deferred bool `json:"deferred,omitempty"`
	// Unresolved marks an entry whose Name is a package name or pattern
	// of the policy, as written, that could not be resolved to packages
	// (Error says why): not a package, but a failure of the run.
	Unresolved bool `json:"unresolved,omitempty"`
	// Broken lists the broken images the run saw (containers whose
	// structure was read): reported, never a reason to fail, and judged
	// by the policy like any other image.
	Broken   []BrokenImage `json:"broken,omitempty"`
	Versions []VersionPlan `json:"versions"`
}

// VersionPlan is the decision for one version. Parents holds the digests of
// the versions that reference it (containers only): a member is deleted after
// its roots and restored before them. Result is empty until executed.
type VersionPlan struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Tags      []string  `json:"tags"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Decision  Decision  `json:"decision"`
	Reason    string    `json:"reason"`
	// Rule is the index, from 0, of the policy's rule whose verdict is
	// Reason, in a policy of several rules; absent for one rule, and for
	// reasons no single rule gives (child-of, guards, not-selected).
	Rule    *int     `json:"rule,omitempty"`
	Parents []string `json:"parents,omitempty"`
	Result  string   `json:"result,omitempty"`
}

// MarshalJSON encodes the plan; nil lists (packages, versions, tags) are
// written as [].
func (p Plan) MarshalJSON() ([]byte, error) { return marshalJSON(p.plain()) }

// planJSON is Plan without its MarshalJSON method.
type planJSON Plan

// plain returns the plan with every nil list replaced by an empty one,
// copying only what it changes.
func (p *Plan) plain() planJSON {
	q := planJSON(*p)
	if q.Packages == nil {
		q.Packages = []PackagePlan{}
	}
	copied := false
	for k := range q.Packages {
		pp := &q.Packages[k]
		fixVersions := pp.Versions == nil
		fixTags := false
		for i := range pp.Versions {
			if pp.Versions[i].Tags == nil {
				fixTags = true
				break
			}
		}
		if !fixVersions && !fixTags {
			continue
		}
		if !copied {
			q.Packages = append([]PackagePlan(nil), q.Packages...)
			pp = &q.Packages[k]
			copied = true
		}
		if fixVersions {
			pp.Versions = []VersionPlan{}
		}
		if fixTags {
			vs := append([]VersionPlan(nil), pp.Versions...)
			for i := range vs {
				if vs[i].Tags == nil {
					vs[i].Tags = []string{}
				}
			}
			pp.Versions = vs
		}
	}
	return q
}

// Totals counts the packages and versions of a plan by decision and, once
// executed, by result.
type Totals struct {
	Packages int
	// Incomplete counts packages whose listing failed (nothing decided),
	// deferred ones included.
	Incomplete int
	// DeferredPackages counts the incomplete packages left for the next
	// run because of rate limits (not failures).
	DeferredPackages int
	Versions         int

	// Versions by decision.
	Delete, Keep, Protected int

	// Versions by result.
	Deleted     int // deleted
	AlreadyGone int // already-gone: 404 on delete, counted as deleted by the action
	Refused     int // protected: GitHub refused the deletion (5,000 downloads, last version)
	Failed      int // failed:<message>
	Restored    int // restored (restore run)
	// RestoreSkipped counts restore-skipped results (restore run).
	RestoreSkipped int

	// Deferred counts versions left for a later run: kept by
	// max-deletions (reason), or planned for deletion and not reached
	// (result deferred).
	Deferred int
	// Pending counts delete decisions with no result: a dry run, or a
	// plan not executed yet.
	Pending int
}

// Totals counts the plan's packages and versions.
func (p *Plan) Totals() Totals {
	var t Totals
	for k := range p.Packages {
		pp := &p.Packages[k]
		t.Packages++
		if !pp.Complete {
			t.Incomplete++
			if pp.Deferred {
				t.DeferredPackages++
			}
		}
		for i := range pp.Versions {
			v := &pp.Versions[i]
			t.Versions++
			switch v.Decision {
			case Delete:
				t.Delete++
				if v.Result == "" {
					t.Pending++
				}
			case Keep:
				t.Keep++
			case Protected:
				t.Protected++
			}
			if v.Reason == ReasonMaxDeletions {
				t.Deferred++
			}
			switch {
			case v.Result == ResultDeleted:
				t.Deleted++
			case v.Result == ResultAlreadyGone:
				t.AlreadyGone++
			case v.Result == ResultProtected:
				t.Refused++
			case v.Result == ResultDeferred:
				t.Deferred++
			case v.Result == ResultRestored:
				t.Restored++
			case v.Result == ResultRestoreSkipped:
				t.RestoreSkipped++
			case strings.HasPrefix(v.Result, ResultFailedPrefix):
				t.Failed++
			}
		}
	}
	return t
}

// Group is one unit of deletion in a package plan: indexes into
// PackagePlan.Versions, the root first, then the members deleted with it,
// each after every one of its parents.
type Group []int

// Groups returns the delete groups of a package plan in execution order,
// oldest group first (by the root's updated_at, then id). It reads only the
// plan: decisions, names and Parents. A root is a deleted version none of
// whose parents is in the plan; a deleted member belongs to the group of
// whichever of its parents' groups comes last, so every parent of a member
// is deleted in its group or an earlier one. Executors delete a group in
// order and a member only after every one of its parents was deleted;
// restores go the other way (members before roots).
//
// A deleted version with a parent in the plan that is not deleted, or on a
// cycle of parents, is in no group: it is never executed (Build never plans
// such a deletion; a hand-edited plan might).
func Groups(pp *PackagePlan) []Group {
	vs := pp.Versions
	key := func(i int) (time.Time, int64) {
		return updatedAtPlan(&vs[i]), vs[i].ID
	}
	older := func(a, b int) bool {
		ta, ia := key(a)
		tb, ib := key(b)
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		return ia < ib
	}
	nested := false
	for i := range vs {
		if vs[i].Decision == Delete && len(vs[i].Parents) > 0 {
			nested = true
			break
		}
	}
	var roots []int
	members := map[int][]int{}
	if !nested {
		for i := range vs {
			if vs[i].Decision == Delete {
				roots = append(roots, i)
			}
		}
	} else {
		byName := make(map[string]int, len(vs))
		for i := range vs {
			if _, dup := byName[vs[i].Name]; !dup {
				byName[vs[i].Name] = i
			}
		}
		indeg := make([]int, len(vs))
		children := make([][]int, len(vs))
		var queue []int
		for i := range vs {
			if vs[i].Decision != Delete {
				continue
			}
			for _, d := range vs[i].Parents {
				q, ok := byName[d]
				if !ok || q == i {
					continue
				}
				indeg[i]++
				if vs[q].Decision == Delete {
					children[q] = append(children[q], i)
				}
			}
			if indeg[i] == 0 {
				queue = append(queue, i)
			}
		}
		group := make([]int, len(vs))
		for i := range group {
			group[i] = -1
		}
		for k := 0; k < len(queue); k++ {
			i := queue[k]
			if group[i] < 0 {
				group[i] = i
				roots = append(roots, i)
			}
			members[group[i]] = append(members[group[i]], i)
			for _, c := range children[i] {
				if group[c] < 0 || older(group[c], group[i]) {
					group[c] = group[i]
				}
				if indeg[c]--; indeg[c] == 0 {
					queue = append(queue, c)
				}
			}
		}
	}
	sort.Slice(roots, func(a, b int) bool { return older(roots[a], roots[b]) })
	out := make([]Group, len(roots))
	for k, r := range roots {
		if m, ok := members[r]; ok {
			out[k] = m
		} else {
			out[k] = Group{r}
		}
	}
	return out
}

// JSON returns the plan file: the plan's JSON encoding, indented, with
// <, > and & written as they are (not \u003c), and a final newline. It is
// what WriteJSON writes.
func (p *Plan) JSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := p.WriteJSON(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// marshalJSON is json.Marshal without HTML escaping, so that ranges such as
// <2.0.0 read as written in plan files.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// unmarshalParsed decodes a JSON string and parses it with parse: the
// JSON form of a value written as the user wrote it (a pattern, a range).
func unmarshalParsed[T any](b []byte, what string, parse func(string) (T, error)) (T, error) {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var zero T
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	return parse(s)
}
