package policy

import "time"

// JournalEntry is one line of a run's journal, written for each DELETE
// just before it is sent (Version.Result empty) and again once GitHub
// answered it (Version.Result set), so that a run killed before it writes
// its plan file can still be undone (restore-from takes the journal as it
// takes a plan file).
type JournalEntry struct {
	StartedAt  time.Time   `json:"started_at"`
	Owner      string      `json:"owner"`
	Type       PackageType `json:"type"`
	Name       string      `json:"name"`
	Visibility string      `json:"visibility"`
	Version    VersionPlan `json:"version"`
}

// NewJournalEntry returns the journal line of v, a version of pp the run
// started at startedAt deletes.
func NewJournalEntry(startedAt time.Time, pp *PackagePlan, v *VersionPlan) JournalEntry {
	e := JournalEntry{StartedAt: startedAt, Owner: pp.Owner, Type: pp.Type, Name: pp.Name, Visibility: pp.Visibility, Version: *v}
	if e.Version.Tags == nil {
		e.Version.Tags = []string{}
	}
	return e
}

// PlanFromJournal returns the plan a journal stands for: its packages in
// the order they first appear, each with the versions whose last line says
// "deleted" or says the DELETE was sent with no answer written (the run was
// killed while it was in flight), as deleted, so that Restore undoes them
// as it undoes a plan file. A version sent but not deleted after all is
// still active, and Restore skips it.
func PlanFromJournal(entries []JournalEntry) *Plan {
	p := &Plan{Packages: []PackagePlan{}}
	type key struct {
		owner string
		typ   PackageType
		name  string
	}
	pkgIdx := map[key]int{}
	last := map[key]map[int64]int{} // version id -> index in its package
	for _, e := range entries {
		if p.StartedAt.IsZero() {
			p.StartedAt = e.StartedAt
		}
		k := key{e.Owner, e.Type, e.Name}
		i, ok := pkgIdx[k]
		if !ok {
			i = len(p.Packages)
			pkgIdx[k] = i
			last[k] = map[int64]int{}
			p.Packages = append(p.Packages, PackagePlan{Owner: e.Owner, Type: e.Type, Name: e.Name, Visibility: e.Visibility, Complete: true, Versions: []VersionPlan{}})
		}
		pp := &p.Packages[i]
		if j, seen := last[k][e.Version.ID]; seen {
			pp.Versions[j] = e.Version // a later line of the same version wins
			continue
		}
		last[k][e.Version.ID] = len(pp.Versions)
		pp.Versions = append(pp.Versions, e.Version)
	}
	for i := range p.Packages {
		pp := &p.Packages[i]
		kept := pp.Versions[:0]
		for _, v := range pp.Versions {
			if v.Result == "" || v.Result == ResultDeleted {
				v.Result = ResultDeleted
				kept = append(kept, v)
			}
		}
		pp.Versions = kept
	}
	return p
}
