package policy

import (
	"fmt"
	"math/rand"
	"testing"
	"time"
)

// checkInvariants checks a plan against the promises of policy.md,
// computed independently of the planner's own bookkeeping.
func checkInvariants(t *testing.T, pol *Policy, pkgs []PackageInput, plan *Plan) {
	t.Helper()
	if plan.Policy != pol || plan.DryRun != pol.DryRun {
		t.Errorf("plan does not carry its policy")
	}
	type key struct {
		owner string
		typ   PackageType
		name  string
	}
	inputs := map[key]*PackageInput{}
	for i := range pkgs {
		in := &pkgs[i]
		inputs[key{in.Owner, in.Type, in.Name}] = in
	}
	covering := func(in *PackageInput) []*Rule {
		var rs []*Rule
		for i := range pol.Rules {
			if pol.Rules[i].Covers(in.Owner, in.Type, in.Name) {
				rs = append(rs, &pol.Rules[i])
			}
		}
		return rs
	}
	planned := 0
	for i := range pkgs {
		if len(covering(&pkgs[i])) > 0 {
			planned++
		}
	}
	if len(plan.Packages) != planned {
		t.Errorf("plan has %d packages, %d are covered", len(plan.Packages), planned)
	}
	deletes := 0
	for k := range plan.Packages {
		pp := &plan.Packages[k]
		if k > 0 {
			prev := &plan.Packages[k-1]
			if prev.Owner > pp.Owner || prev.Owner == pp.Owner && (prev.Type > pp.Type || prev.Type == pp.Type && prev.Name > pp.Name) {
				t.Errorf("packages out of order: %s/%s before %s/%s", prev.Type, prev.Name, pp.Type, pp.Name)
			}
		}
		in := inputs[key{pp.Owner, pp.Type, pp.Name}]
		if in == nil {
			t.Fatalf("plan has package %s/%s that was not given", pp.Type, pp.Name)
		}
		if pp.Versions == nil {
			t.Errorf("%s: nil versions", pp.Name)
		}
		if !in.Complete {
			if pp.Complete || len(pp.Versions) != 0 || pp.Error != in.Error {
				t.Errorf("%s: incomplete package planned: complete=%v versions=%d", pp.Name, pp.Complete, len(pp.Versions))
			}
			continue
		}
		if len(pp.Versions) != len(in.Versions) {
			t.Fatalf("%s: %d versions planned, %d given", pp.Name, len(pp.Versions), len(in.Versions))
		}
		rules := covering(in)
		byID := map[int64]*VersionPlan{}
		for i := range pp.Versions {
			byID[pp.Versions[i].ID] = &pp.Versions[i]
		}
		vers := map[int64]*Version{}
		for i := range in.Versions {
			vers[in.Versions[i].ID] = &in.Versions[i]
		}
		for i := 1; i < len(pp.Versions); i++ {
			a, b := &pp.Versions[i-1], &pp.Versions[i]
			ta, tb := updatedAtPlan(a), updatedAtPlan(b)
			if ta.Before(tb) || ta.Equal(tb) && a.ID < b.ID {
				t.Errorf("%s: versions %d and %d not newest first", pp.Name, a.ID, b.ID)
			}
		}
		var st *Structure
		if in.Type == Container {
			st = in.Structure
		}
		parentsOf := func(id int64) []int64 {
			if st == nil {
				return nil
			}
			var out []int64
			for _, p := range st.Parents[id] {
				if _, ok := vers[p]; ok && p != id {
					out = append(out, p)
				}
			}
			return out
		}
		unreadable := false
		if st != nil {
			for id := range st.Unreadable {
				if vers[id] != nil {
					unreadable = true
				}
			}
		}
		all, tagged, taggedKept := true, false, false
		for i := range pp.Versions {
			vp := &pp.Versions[i]
			v := vers[vp.ID]
			if vp.Tags == nil {
				t.Errorf("%s %d: nil tags", pp.Name, vp.ID)
			}
			if vp.Reason == "" {
				t.Errorf("%s %d: no reason", pp.Name, vp.ID)
			}
			labels := Labels(in.Type, v)
			if len(v.Tags) > 0 {
				tagged = true
			}
			switch vp.Decision {
			case Keep, Protected:
				all = false
				if len(v.Tags) > 0 {
					taggedKept = true
				}
				continue
			case Delete:
			default:
				t.Fatalf("%s %d: decision %q", pp.Name, vp.ID, vp.Decision)
			}
			deletes++
			for _, p := range parentsOf(vp.ID) {
				if byID[p].Decision != Delete {
					t.Errorf("%s: %d deleted while its parent %d is %s", pp.Name, vp.ID, p, byID[p].Decision)
				}
			}
			if st != nil && st.Unreadable[vp.ID] != "" {
				t.Errorf("%s: unreadable %d deleted", pp.Name, vp.ID)
			}
			if unreadable {
				t.Errorf("%s: %d deleted beside an unreadable manifest", pp.Name, vp.ID)
			}
			if in.Protected[vp.ID] {
				t.Errorf("%s: protected %d deleted", pp.Name, vp.ID)
			}
			for _, r := range rules {
				for _, p := range r.KeepTags {
					if p.IsDigest() && p.Match(v.Name) {
						t.Errorf("%s: %d deleted though %s keeps it", pp.Name, vp.ID, p)
					}
					for _, l := range labels {
						if !p.IsDigest() && p.Match(l) {
							t.Errorf("%s: %d deleted though %s keeps %s", pp.Name, vp.ID, p, l)
						}
					}
				}
				for _, l := range labels {
					if r.KeepSemver != nil && r.KeepSemver.Match(l) {
						t.Errorf("%s: %d deleted though %s keeps %s", pp.Name, vp.ID, r.KeepSemver, l)
					}
				}
			}
			if len(parentsOf(vp.ID)) == 0 || len(labels) > 0 {
				if !someRuleDeletes(rules, labels, v, plan.StartedAt) {
					t.Errorf("%s: %d deleted though no rule selects it", pp.Name, vp.ID)
				}
			}
		}
		if len(pp.Versions) > 0 && all {
			t.Errorf("%s: every version deleted", pp.Name)
		}
		if in.Type == Container && tagged && !taggedKept {
			t.Errorf("%s: every tagged version deleted", pp.Name)
		}
		checkGroups(t, pp)
	}
	// The cap holds, but for a run whose oldest image alone is larger:
	// that image goes whole, and nothing else.
	if pol.MaxDeletions > 0 && deletes > pol.MaxDeletions && !oneGroupOnly(plan) {
		t.Errorf("%d deletions, max-deletions is %d", deletes, pol.MaxDeletions)
	}
}

// someRuleDeletes reports whether a rule's selectors and age would delete a
// judged version (keep-latest aside).
func someRuleDeletes(rules []*Rule, labels []string, v *Version, now time.Time) bool {
	for _, r := range rules {
		switch r.TagState {
		case Tagged:
			if len(labels) == 0 {
				continue
			}
		case Untagged:
			if len(labels) > 0 {
				continue
			}
		}
		if len(r.DeleteTags) > 0 {
			hit := false
			for _, p := range r.DeleteTags {
				if p.IsDigest() {
					hit = hit || p.Match(v.Name)
					continue
				}
				for _, l := range labels {
					hit = hit || p.Match(l)
				}
			}
			if !hit {
				continue
			}
		}
		if r.DeleteSemver != nil {
			hit := false
			for _, l := range labels {
				hit = hit || r.DeleteSemver.Match(l)
			}
			if !hit {
				continue
			}
		}
		ts := v.UpdatedAt
		if r.AgeBasis == Created {
			ts = v.CreatedAt
		}
		if r.OlderThan > 0 && now.Sub(ts) <= r.OlderThan {
			continue
		}
		return true
	}
	return false
}

// checkGroups checks that Groups puts every deleted version in exactly one
// group, parents first, oldest group first.
func checkGroups(t *testing.T, pp *PackagePlan) {
	t.Helper()
	groups := Groups(pp)
	pos := map[string][2]int{} // digest -> group, position
	seen := map[int]bool{}
	for g, grp := range groups {
		if len(grp) == 0 {
			t.Fatalf("%s: empty group", pp.Name)
		}
		if g > 0 {
			a, b := &pp.Versions[groups[g-1][0]], &pp.Versions[grp[0]]
			if updatedAtPlan(a).After(updatedAtPlan(b)) {
				t.Errorf("%s: group of %d before older group of %d", pp.Name, a.ID, b.ID)
			}
		}
		for k, i := range grp {
			if seen[i] {
				t.Errorf("%s: version %d in two groups", pp.Name, pp.Versions[i].ID)
			}
			seen[i] = true
			if pp.Versions[i].Decision != Delete {
				t.Errorf("%s: %d in a group but not deleted", pp.Name, pp.Versions[i].ID)
			}
			pos[pp.Versions[i].Name] = [2]int{g, k}
		}
	}
	for i := range pp.Versions {
		v := &pp.Versions[i]
		if v.Decision == Delete && !seen[i] {
			t.Errorf("%s: deleted %d in no group", pp.Name, v.ID)
		}
		if v.Decision != Delete {
			continue
		}
		me := pos[v.Name]
		for _, d := range v.Parents {
			p, ok := pos[d]
			if !ok {
				continue
			}
			if p[0] > me[0] || p[0] == me[0] && p[1] >= me[1] {
				t.Errorf("%s: %d comes before its parent %s", pp.Name, v.ID, d)
			}
		}
	}
}

// TestRandomPlans builds plans for random container and npm packages with
// random structure and policies and checks the invariants on each.
func TestRandomPlans(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tagPool := []string{"latest", "v1.0.0", "v1.2.0", "v2.0.0-rc.1", "pr-1", "pr-2", "main", "1.4"}
	policies := []map[string]string{
		{"packages": "*", "tag-state": "untagged"},
		{"packages": "*", "tag-state": "untagged", "older-than": "7d"},
		{"packages": "*", "tag-state": "tagged", "keep-latest": "2", "keep-tags": "latest"},
		{"packages": "*", "delete-tags": "pr-*", "older-than": "1d"},
		{"packages": "*", "delete-semver": "<2.0.0", "keep-semver": ">=1.2.0"},
		{"packages": "*", "max-deletions": "7"},
		{"packages": "*", "older-than": "3d", "age-basis": "created", "keep-latest": "1"},
	}
	for round := 0; round < 300; round++ {
		inputs := policies[round%len(policies)]
		if round%3 == 2 && inputs["tag-state"] == "" {
			npm := map[string]string{"package-type": "npm"}
			for k, v := range inputs {
				npm[k] = v
			}
			inputs = npm
		}
		var pkgs []PackageInput
		for k := 0; k < 3; k++ {
			typ := Container
			if k == 2 {
				typ = Npm
			}
			in := PackageInput{Owner: "acme", Type: typ, Name: fmt.Sprintf("p%d", k), Complete: true}
			if rng.Intn(20) == 0 {
				in.Complete, in.Error = false, "listing failed"
			}
			n := rng.Intn(25)
			st := &Structure{Parents: map[int64][]int64{}, Unreadable: map[int64]string{}}
			for i := 0; i < n; i++ {
				id := int64(k*1000 + i + 1)
				v := Version{ID: id, CreatedAt: now.Add(-time.Duration(rng.Intn(400)) * time.Hour)}
				v.UpdatedAt = v.CreatedAt.Add(time.Duration(rng.Intn(100)) * time.Hour)
				if typ == Container {
					v.Name = digestOf(id)
					for _, tg := range tagPool {
						if rng.Intn(8) == 0 {
							v.Tags = append(v.Tags, tg)
						}
					}
					if i > 0 && rng.Intn(3) == 0 {
						for j := rng.Intn(3); j >= 0; j-- {
							p := int64(k*1000 + rng.Intn(n+2) + 1) // may be missing or self or a cycle
							st.Parents[id] = append(st.Parents[id], p)
						}
					}
					if rng.Intn(10) == 0 {
						v.Tags = append(v.Tags, "sha256-"+digestOf(int64(rng.Intn(3000)))[7:]+".sig")
					}
					if rng.Intn(60) == 0 {
						st.Unreadable[id] = "manifest unknown"
					}
				} else {
					v.Name = tagPool[rng.Intn(len(tagPool))] + fmt.Sprint(".", i)
				}
				if rng.Intn(15) == 0 {
					if in.Protected == nil {
						in.Protected = map[int64]bool{}
					}
					in.Protected[id] = true
				}
				in.Versions = append(in.Versions, v)
			}
			if typ == Container {
				in.Structure = st
			}
			pkgs = append(pkgs, in)
		}
		pol, err := Parse(Inputs{Values: inputs, DefaultOwner: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		plan := Build(pol, pkgs, now)
		checkInvariants(t, pol, pkgs, plan)
		if t.Failed() {
			t.Fatalf("round %d (policy %v) failed", round, inputs)
		}
	}
}

// oneGroupOnly reports whether the plan's deletions are a single image.
func oneGroupOnly(plan *Plan) bool {
	n := 0
	for k := range plan.Packages {
		n += len(Groups(&plan.Packages[k]))
	}
	return n == 1
}
