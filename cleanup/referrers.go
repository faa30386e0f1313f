package cleanup

import (
	"context"
	"slices"

	"github.com/pkgretention/retention/policy"
)

// ReferrersLister is what a Containers may add: the registry's referrers
// API (GET /v2/<repo>/referrers/<digest>), which lists every OCI 1.1
// referrer of an image, including those no fallback index lists.
type ReferrersLister interface {
	// Referrers returns, for each subject digest the registry answers
	// for, the digests of the manifests whose subject it is. A registry
	// with no referrers API (ghcr.io) answers nothing, and is not asked
	// again in the run. The error is for a cancelled context only.
	Referrers(ctx context.Context, owner, pkgName string, subjects []string) (map[string][]string, error)
}

// referrersAPI is what a package's planning rounds learned from the
// referrers API: links from referrer to subject, added to every structure
// read, and the versions already asked about.
type referrersAPI struct {
	lister ReferrersLister
	asked  map[int64]bool
	links  map[int64][]int64 // referrer ID -> subject IDs
}

// addTo adds the links learned to st.
func (a *referrersAPI) addTo(st *policy.Structure) {
	if a == nil || st == nil {
		return
	}
	for c, ps := range a.links {
		for _, p := range ps {
			if !slices.Contains(st.Parents[c], p) {
				if st.Parents == nil {
					st.Parents = map[int64][]int64{}
				}
				st.Parents[c] = append(st.Parents[c], p)
			}
		}
	}
}

// ask asks the referrers API about each kept root of pp not asked about
// before, and reports whether it named a referrer the structure did not
// link to its subject yet.
func (a *referrersAPI) ask(ctx context.Context, owner, pkgName string, versions []policy.Version, pp *policy.PackagePlan) (bool, error) {
	if pp == nil {
		return false, nil
	}
	byName := make(map[string]int64, len(versions))
	for _, v := range versions {
		if _, dup := byName[v.Name]; !dup {
			byName[v.Name] = v.ID
		}
	}
	parents := map[int64][]string{}
	var subjects []string
	for _, v := range pp.Versions {
		parents[v.ID] = v.Parents
		if v.Decision == policy.Delete || len(v.Parents) > 0 || a.asked[v.ID] {
			continue
		}
		a.asked[v.ID] = true
		subjects = append(subjects, v.Name)
	}
	if len(subjects) == 0 {
		return false, nil
	}
	found, err := a.lister.Referrers(ctx, owner, pkgName, subjects)
	if err != nil {
		return false, err
	}
	added := false
	for subject, refs := range found {
		sid, ok := byName[subject]
		if !ok {
			continue
		}
		for _, d := range refs {
			rid, ok := byName[d]
			if !ok || rid == sid || slices.Contains(parents[rid], subject) || slices.Contains(a.links[rid], sid) {
				continue
			}
			if a.links == nil {
				a.links = map[int64][]int64{}
			}
			a.links[rid] = append(a.links[rid], sid)
			added = true
		}
	}
	return added, nil
}
