package policy

import "time"

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
}

// Decision is what the plan says about one version.
type Decision string

// The three decisions of a plan.
const (
	Delete    Decision = "delete"
	Keep      Decision = "keep"
	Protected Decision = "protected"
)

// Reasons recorded in a plan. Parametrised reasons are built with the
// helpers below: "keep-tags:<pattern>", "keep-semver:<range>",
// "child-of:<digest>".
const (
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
)

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
	Owner      string        `json:"owner"`
	Type       PackageType   `json:"type"`
	Name       string        `json:"name"`
	Visibility string        `json:"visibility"`
	Complete   bool          `json:"complete"`
	Error      string        `json:"error,omitempty"`
	Versions   []VersionPlan `json:"versions"`
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
	Parents   []string  `json:"parents,omitempty"`
	Result    string    `json:"result,omitempty"`
}
