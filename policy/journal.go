package policy

import "time"

// JournalEntry is one line of a run's journal: a version whose DELETE
// GitHub answered with success, written as soon as it was answered, so that
// a run killed before it writes its plan file can still be undone
// (restore-from takes the journal as it takes a plan file).
type JournalEntry struct {
	StartedAt  time.Time   `json:"started_at"`
	Owner      string      `json:"owner"`
	Type       PackageType `json:"type"`
	Name       string      `json:"name"`
	Visibility string      `json:"visibility"`
	Version    VersionPlan `json:"version"`
}

// NewJournalEntry returns the journal line of v, a version of pp deleted by
// the run started at startedAt.
func NewJournalEntry(startedAt time.Time, pp *PackagePlan, v *VersionPlan) JournalEntry {
	e := JournalEntry{StartedAt: startedAt, Owner: pp.Owner, Type: pp.Type, Name: pp.Name, Visibility: pp.Visibility, Version: *v}
	if e.Version.Tags == nil {
		e.Version.Tags = []string{}
	}
	return e
}

// PlanFromJournal returns the plan a journal stands for: its packages in
// the order they first appear, each with the versions the journal lists
// (result "deleted", once each), so that Restore undoes them as it undoes a
// plan file.
func PlanFromJournal(entries []JournalEntry) *Plan {
	p := &Plan{Packages: []PackagePlan{}}
	type key struct {
		owner string
		typ   PackageType
		name  string
	}
	idx := map[key]int{}
	seen := map[key]map[int64]bool{}
	for _, e := range entries {
		if p.StartedAt.IsZero() {
			p.StartedAt = e.StartedAt
		}
		k := key{e.Owner, e.Type, e.Name}
		i, ok := idx[k]
		if !ok {
			i = len(p.Packages)
			idx[k] = i
			seen[k] = map[int64]bool{}
			p.Packages = append(p.Packages, PackagePlan{Owner: e.Owner, Type: e.Type, Name: e.Name, Visibility: e.Visibility, Complete: true})
		}
		if seen[k][e.Version.ID] {
			continue
		}
		seen[k][e.Version.ID] = true
		v := e.Version
		v.Result = ResultDeleted
		p.Packages[i].Versions = append(p.Packages[i].Versions, v)
	}
	return p
}
