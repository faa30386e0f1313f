package policy

import (
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
)

// Build plans every package: the decision and reason for every version,
// newest first, with max-deletions applied across packages (oldest first).
//
// A package no rule covers is left out of the plan, except an unresolved
// name or pattern (PackageInput.Unresolved). An incomplete package
// (Complete false) is in the plan with its error and no versions: nothing in
// it is decided, so nothing is deleted. Packages are ordered by owner, type
// and name. See the package documentation for the evaluation.
func Build(p *Policy, pkgs []PackageInput, now time.Time) *Plan {
	plan := &Plan{Packages: []PackagePlan{}, Policy: p, StartedAt: now}
	if p == nil {
		return plan
	}
	plan.DryRun = p.DryRun
	evals := make([]*ruleEval, len(p.Rules))
	for i := range p.Rules {
		evals[i] = newRuleEval(&p.Rules[i])
		evals[i].index = i
	}
	var covering []*ruleEval
	for i := range pkgs {
		in := &pkgs[i]
		covering = covering[:0]
		for _, e := range evals {
			if e.matcher != nil && e.r.Owner != "" && e.covers(in) {
				covering = append(covering, e)
			}
		}
		if len(covering) == 0 && !(in.Unresolved && !in.Complete) {
			continue
		}
		pp := PackagePlan{
			Owner:      in.Owner,
			Type:       in.Type,
			Name:       in.Name,
			Visibility: in.Visibility,
			Complete:   in.Complete,
			Error:      in.Error,
			Deferred:   in.Deferred && !in.Complete,
			Unresolved: in.Unresolved && !in.Complete,
			Versions:   []VersionPlan{},
			Broken:     in.Broken, // what repair did, even in a package it left undecided
		}
		if in.Complete {
			pl := newPlanner(in, now)
			pl.recordRules = len(p.Rules) > 1
			pl.plan(covering)
			pp.Versions = pl.versionPlans()
			if pp.Broken == nil {
				pp.Broken = BrokenImages(in, pp.Versions)
			}
		}
		plan.Packages = append(plan.Packages, pp)
	}
	sort.SliceStable(plan.Packages, func(a, b int) bool {
		x, y := &plan.Packages[a], &plan.Packages[b]
		if x.Owner != y.Owner {
			return x.Owner < y.Owner
		}
		if x.Type != y.Type {
			return x.Type < y.Type
		}
		return x.Name < y.Name
	})
	if p.MaxDeletions > 0 {
		applyMaxDeletions(plan, p.MaxDeletions)
	}
	return plan
}

// ruleEval is a rule prepared for evaluation.
type ruleEval struct {
	r *Rule
	// index is the rule's place in Policy.Rules.
	index            int
	matcher          *packageMatcher
	keepTagReasons   []string
	keepSemverReason string
}

func newRuleEval(r *Rule) *ruleEval {
	e := &ruleEval{r: r, matcher: r.matcher()}
	for _, p := range r.KeepTags {
		e.keepTagReasons = append(e.keepTagReasons, ReasonKeepTagsPrefix+p.String())
	}
	if r.KeepSemver != nil {
		e.keepSemverReason = ReasonKeepSemverPrefix + r.KeepSemver.String()
	}
	return e
}

func (e *ruleEval) covers(in *PackageInput) bool {
	return e.r.packageType() == in.Type && strings.EqualFold(e.r.Owner, in.Owner) && e.matcher.match(in.Name)
}

// planner decides the versions of one package. Indexes are int32 to keep
// the per-version memory small.
type planner struct {
	in        *PackageInput
	vs        []Version
	now       time.Time
	container bool

	order   []int32 // plan order: newest first by updated_at, then id
	created []int32 // newest first by created_at, then id (on demand)
	rank    []int32 // position of a version in order
	labels  [][]string
	// memberSelected marks tagged members some rule selects by their own
	// tags (see taggedMember).
	memberSelected []bool
	semvers        [][]*semver.Version // parsed labels, on demand

	parents  [][]int32 // parents that exist, newest first
	children [][]int32
	topo     []int32 // every parent before its children
	// Set only when the parents hold a cycle: cycleMate is another member
	// of the version's cycle (or -1); allParents the parents before the
	// cycles were cut.
	cycleMate  []int32
	allParents [][]int32

	unreadable    []bool
	hasUnreadable bool

	// verdicts of the rules, combined
	keepReason []string
	// recordRules makes the plan name the rule behind each rule's verdict
	// (policies with several rules); keepRule, delRule and youngRule hold
	// the index of the first rule that kept, deleted or found too young.
	recordRules                  bool
	keepRule, delRule, youngRule []int16
	del                          []bool
	young                        []bool

	lastVersion []bool // forced by a guard
	dec         []Decision
	reason      []string
	childOf     []string // "child-of:<digest>" of a version, made once
}

func newPlanner(in *PackageInput, now time.Time) *planner {
	n := len(in.Versions)
	p := &planner{in: in, vs: in.Versions, now: now, container: in.Type == Container}
	p.order = make([]int32, n)
	for i := range p.order {
		p.order[i] = int32(i)
	}
	sortNewestFirst(p.order, p.vs, updatedAt)
	p.rank = make([]int32, n)
	for r, i := range p.order {
		p.rank[i] = int32(r)
	}
	p.labels = make([][]string, n)
	if p.container {
		for i := range p.vs {
			p.labels[i] = realTags(p.vs[i].Tags)
		}
	} else {
		names := make([]string, n)
		for i := range p.vs {
			names[i] = p.vs[i].Name
			p.labels[i] = names[i : i+1 : i+1]
		}
	}
	p.parents = make([][]int32, n)
	if p.container && in.Structure != nil {
		p.readStructure(in.Structure)
	}
	p.sortTopo()
	return p
}

// updatedAt is the timestamp of the plan order: updated_at, or created_at
// when updated_at is unknown.
func updatedAt(v *Version) time.Time {
	if v.UpdatedAt.IsZero() {
		return v.CreatedAt
	}
	return v.UpdatedAt
}

func createdAt(v *Version) time.Time { return v.CreatedAt }

func sortNewestFirst(idx []int32, vs []Version, ts func(*Version) time.Time) {
	sort.Slice(idx, func(a, b int) bool {
		x, y := &vs[idx[a]], &vs[idx[b]]
		tx, ty := ts(x), ts(y)
		if !tx.Equal(ty) {
			return tx.After(ty)
		}
		return x.ID > y.ID
	})
}

func (p *planner) readStructure(st *Structure) {
	n := len(p.vs)
	if len(st.Parents) == 0 && len(st.Unreadable) == 0 {
		return
	}
	index := make(map[int64]int32, n)
	for i := range p.vs {
		if _, dup := index[p.vs[i].ID]; !dup {
			index[p.vs[i].ID] = int32(i)
		}
	}
	for cid, pids := range st.Parents {
		c, ok := index[cid]
		if !ok {
			continue
		}
		var ps []int32
		for _, pid := range pids {
			if q, ok := index[pid]; ok && q != c {
				ps = append(ps, q)
			}
		}
		p.sortByRank(ps)
		uniq := ps[:0]
		for k, q := range ps {
			if k == 0 || q != ps[k-1] {
				uniq = append(uniq, q)
			}
		}
		p.parents[c] = uniq
	}
	for id := range st.Unreadable {
		if i, ok := index[id]; ok {
			if p.unreadable == nil {
				p.unreadable = make([]bool, n)
			}
			p.unreadable[i] = true
			p.hasUnreadable = true
		}
	}
}

func (p *planner) sortByRank(s []int32) {
	sort.Slice(s, func(a, b int) bool { return p.rank[s[a]] < p.rank[s[b]] })
}

// sortTopo orders the versions so that parents come before their children
// (Kahn's algorithm, seeded in plan order). Cycles, which content
// addressing makes impossible in a real registry, are cut first: edges
// inside a strongly connected component are dropped, and the members of a
// cycle are never deleted (each is kept as a child of another member).
func (p *planner) sortTopo() {
	if !p.kahn() {
		p.breakCycles()
		p.kahn()
	}
}

func (p *planner) kahn() bool {
	n := len(p.vs)
	p.children = make([][]int32, n)
	indeg := make([]int32, n)
	hasEdges := false
	for _, c := range p.order {
		for _, q := range p.parents[c] {
			p.children[q] = append(p.children[q], c)
			hasEdges = true
		}
		indeg[c] = int32(len(p.parents[c]))
	}
	if !hasEdges {
		p.topo = p.order
		return true
	}
	topo := make([]int32, 0, n)
	for _, i := range p.order {
		if indeg[i] == 0 {
			topo = append(topo, i)
		}
	}
	for k := 0; k < len(topo); k++ {
		for _, c := range p.children[topo[k]] {
			if indeg[c]--; indeg[c] == 0 {
				topo = append(topo, c)
			}
		}
	}
	p.topo = topo
	return len(topo) == n
}

// breakCycles drops every parent edge inside a strongly connected component
// (iterative Tarjan over the child edges) and records the cycle members.
func (p *planner) breakCycles() {
	n := len(p.vs)
	p.allParents = make([][]int32, n)
	for i, ps := range p.parents {
		p.allParents[i] = append([]int32(nil), ps...)
	}
	const unvisited = -1
	index := make([]int32, n)
	low := make([]int32, n)
	onStack := make([]bool, n)
	comp := make([]int32, n)
	for i := range index {
		index[i] = unvisited
		comp[i] = -1
	}
	var stack []int32
	type frame struct {
		v    int32
		next int
	}
	var frames []frame
	var counter, ncomp int32
	for _, s := range p.order {
		if index[s] != unvisited {
			continue
		}
		frames = append(frames[:0], frame{v: s})
		index[s], low[s] = counter, counter
		counter++
		stack = append(stack, s)
		onStack[s] = true
		for len(frames) > 0 {
			f := &frames[len(frames)-1]
			v := f.v
			if f.next < len(p.children[v]) {
				w := p.children[v][f.next]
				f.next++
				if index[w] == unvisited {
					index[w], low[w] = counter, counter
					counter++
					stack = append(stack, w)
					onStack[w] = true
					frames = append(frames, frame{v: w})
				} else if onStack[w] && index[w] < low[v] {
					low[v] = index[w]
				}
				continue
			}
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					if w == v {
						break
					}
				}
				ncomp++
			}
			frames = frames[:len(frames)-1]
			if len(frames) > 0 {
				u := frames[len(frames)-1].v
				if low[v] < low[u] {
					low[u] = low[v]
				}
			}
		}
	}
	p.cycleMate = make([]int32, n)
	for i := range p.cycleMate {
		p.cycleMate[i] = -1
	}
	for c := range p.parents {
		ps := p.parents[c]
		kept := ps[:0]
		for _, q := range ps {
			if comp[q] != comp[int32(c)] {
				kept = append(kept, q)
			} else if p.cycleMate[c] < 0 {
				p.cycleMate[c] = q
			}
		}
		p.parents[c] = kept
	}
}

// judged reports whether a version gets its own rule evaluation: a root.
// A member (a version another version references) follows its roots and
// takes no keep-latest place, even with a tag of its own.
func (p *planner) judged(i int32) bool {
	return len(p.parents[i]) == 0
}

// taggedMember reports whether a version is a member with a tag of its own
// (a platform image tagged v1-amd64 inside the index v1): it goes with its
// roots only if some rule selects it by its own tags and finds it old
// enough, so that a rule for untagged images never takes a tag away.
func (p *planner) taggedMember(i int32) bool {
	return len(p.parents[i]) > 0 && len(p.labels[i]) > 0
}

func (p *planner) semverLabels(i int32) []*semver.Version {
	if p.semvers == nil {
		p.semvers = make([][]*semver.Version, len(p.vs))
	}
	if s := p.semvers[i]; s != nil {
		return s
	}
	s := make([]*semver.Version, 0, len(p.labels[i]))
	for _, l := range p.labels[i] {
		if v := parseLabelVersion(l); v != nil {
			s = append(s, v)
		}
	}
	p.semvers[i] = s
	return s
}

func (p *planner) rangeMatches(r *Range, i int32) bool {
	for _, v := range p.semverLabels(i) {
		if r.check(v) {
			return true
		}
	}
	return false
}

// selects reports whether the rule's selectors all match a judged version.
func (p *planner) selects(r *Rule, i int32) bool {
	switch r.tagState() {
	case Tagged:
		if len(p.labels[i]) == 0 {
			return false
		}
	case Untagged:
		if len(p.labels[i]) > 0 {
			return false
		}
	}
	if r.ImageState == Broken && !p.broken(i) {
		return false
	}
	if len(r.DeleteTags) > 0 {
		hit := false
		for k := range r.DeleteTags {
			if r.DeleteTags[k].matchVersion(p.vs[i].Name, p.labels[i]) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	if r.DeleteSemver != nil && !p.rangeMatches(r.DeleteSemver, i) {
		return false
	}
	return true
}

// broken reports whether a version is a broken image: an index whose
// structure lists manifests that are not active versions.
func (p *planner) broken(i int32) bool {
	return p.container && p.in.Structure != nil && len(p.in.Structure.Missing[p.vs[i].ID]) > 0
}

// keepMatch returns the reason the rule's keep-tags or keep-semver keeps a
// version, or "".
func (p *planner) keepMatch(e *ruleEval, i int32) string {
	r := e.r
	for k := range r.KeepTags {
		if r.KeepTags[k].matchVersion(p.vs[i].Name, p.labels[i]) {
			return e.keepTagReasons[k]
		}
	}
	if r.KeepSemver != nil && p.rangeMatches(r.KeepSemver, i) {
		return e.keepSemverReason
	}
	return ""
}

func (p *planner) plan(rules []*ruleEval) {
	n := len(p.vs)
	p.keepReason = make([]string, n)
	if p.recordRules {
		p.keepRule = make([]int16, n)
		p.delRule = make([]int16, n)
		p.youngRule = make([]int16, n)
	}
	p.del = make([]bool, n)
	p.young = make([]bool, n)
	for _, e := range rules {
		p.applyRule(e)
	}
	p.dec = make([]Decision, n)
	p.reason = make([]string, n)
	p.propagate()
	if p.guard() {
		p.propagate()
		if p.guard() {
			p.propagate()
		}
	}
}

// applyRule evaluates one rule on every version and folds its verdicts into
// the combined ones: the first rule that keeps gives the reason; any rule
// that deletes marks the version; younger-than is remembered as the
// closest miss.
func (p *planner) applyRule(e *ruleEval) {
	r := e.r
	order := p.order
	ts := updatedAt
	if r.AgeBasis == Created {
		if p.created == nil {
			p.created = make([]int32, len(p.vs))
			for i := range p.created {
				p.created[i] = int32(i)
			}
			sortNewestFirst(p.created, p.vs, createdAt)
		}
		order, ts = p.created, createdAt
	}
	latest := 0
	for _, i := range order {
		keep := p.keepMatch(e, i)
		if p.taggedMember(i) && p.selects(r, i) && (r.OlderThan <= 0 || p.now.Sub(ts(&p.vs[i])) > r.OlderThan) {
			if p.memberSelected == nil {
				p.memberSelected = make([]bool, len(p.vs))
			}
			p.memberSelected[i] = true
		}
		if p.judged(i) && p.selects(r, i) {
			switch {
			case latest < r.KeepLatest:
				latest++
				if keep == "" {
					keep = ReasonKeepLatest
				}
			case keep != "":
			case r.OlderThan > 0 && p.now.Sub(ts(&p.vs[i])) <= r.OlderThan:
				if !p.young[i] && p.recordRules {
					p.youngRule[i] = int16(e.index)
				}
				p.young[i] = true
			default:
				if !p.del[i] && p.recordRules {
					p.delRule[i] = int16(e.index)
				}
				p.del[i] = true
			}
		}
		if keep != "" && p.keepReason[i] == "" {
			p.keepReason[i] = keep
			if p.recordRules {
				p.keepRule[i] = int16(e.index)
			}
		}
	}
}

// propagate turns the rules' verdicts into decisions, parents before
// children: a version is deleted only if its own verdict (if judged) is
// delete and every parent is deleted.
func (p *planner) propagate() {
	for _, i := range p.topo {
		p.dec[i], p.reason[i] = p.decide(i)
	}
}

func (p *planner) decide(i int32) (Decision, string) {
	if p.unreadable != nil && p.unreadable[i] {
		return Keep, ReasonUnreadable
	}
	if kr := p.keepReason[i]; kr != "" {
		return Keep, kr
	}
	judged := p.judged(i)
	if judged && !p.del[i] {
		if p.young[i] {
			return Keep, ReasonYoungerThan
		}
		return Keep, ReasonNotSelected
	}
	if p.taggedMember(i) && (p.memberSelected == nil || !p.memberSelected[i]) {
		return Keep, ReasonNotSelected
	}
	deletedParent := int32(-1)
	for _, q := range p.parents[i] {
		if p.dec[q] != Delete {
			return Keep, p.childOfReason(q)
		}
		if deletedParent < 0 {
			deletedParent = q
		}
	}
	switch {
	case p.cycleMate != nil && p.cycleMate[i] >= 0:
		return Keep, p.childOfReason(p.cycleMate[i])
	case p.hasUnreadable:
		// Any version may be a child of the unreadable manifest.
		return Keep, ReasonUnreadable
	case judged && p.buildInFlight(i):
		return Keep, ReasonBuildInFlight
	case p.in.Protected[p.vs[i].ID]:
		return Protected, ReasonDownloadRule
	case p.lastVersion != nil && p.lastVersion[i]:
		return Protected, ReasonLastVersion
	case judged:
		return Delete, ReasonSelected
	default:
		return Delete, p.childOfReason(deletedParent)
	}
}

// buildInFlight reports whether i is an untagged container root created
// less than BuildInFlightAge before the run: possibly the platform
// manifest of a build whose tagged index is not pushed yet.
func (p *planner) buildInFlight(i int32) bool {
	return p.container && len(p.labels[i]) == 0 && len(p.parents[i]) == 0 &&
		p.now.Sub(p.vs[i].CreatedAt) < BuildInFlightAge
}

// childOfReason returns the reason of a version that follows parent q.
func (p *planner) childOfReason(q int32) string {
	if p.childOf == nil {
		p.childOf = make([]string, len(p.vs))
	}
	if p.childOf[q] == "" {
		p.childOf[q] = ReasonChildOfPrefix + p.vs[q].Name
	}
	return p.childOf[q]
}

// guard applies the last-version guards once; it reports whether it forced
// a version to stay (the decisions must then be propagated again).
func (p *planner) guard() bool {
	n := len(p.vs)
	if n == 0 {
		return false
	}
	force := func(i int32) bool {
		if p.lastVersion == nil {
			p.lastVersion = make([]bool, n)
		}
		p.lastVersion[i] = true
		return true
	}
	if p.container {
		// GitHub refuses to delete the last tagged version, any tag counting.
		tagged, taggedKept := false, false
		for i := range p.vs {
			if len(p.vs[i].Tags) > 0 {
				tagged = true
				if p.dec[i] != Delete {
					taggedKept = true
					break
				}
			}
		}
		if tagged && !taggedKept {
			// Keep the newest image with a tag of its own; an orphan
			// signature (tagged only sha256-….sig) only when there is none.
			pick := int32(-1)
			for _, i := range p.order {
				if len(p.labels[i]) > 0 && len(p.parents[i]) == 0 {
					pick = i
					break
				}
			}
			if pick < 0 {
				for _, i := range p.order {
					if len(p.vs[i].Tags) > 0 && len(p.parents[i]) == 0 {
						pick = i
						break
					}
				}
			}
			if pick < 0 {
				for _, i := range p.order {
					if len(p.vs[i].Tags) > 0 {
						pick = i
						break
					}
				}
				for len(p.parents[pick]) > 0 {
					pick = p.parents[pick][0]
				}
			}
			return force(pick)
		}
	}
	for i := range p.vs {
		if p.dec[i] != Delete {
			return false
		}
	}
	// Every version would go: keep the newest root.
	for _, i := range p.order {
		if len(p.parents[i]) == 0 {
			return force(i)
		}
	}
	return false
}

func (p *planner) versionPlans() []VersionPlan {
	out := make([]VersionPlan, len(p.vs))
	for r, i := range p.order {
		v := &p.vs[i]
		tags := v.Tags
		if tags == nil {
			tags = []string{}
		}
		vp := VersionPlan{
			ID:        v.ID,
			Name:      v.Name,
			Tags:      tags,
			CreatedAt: v.CreatedAt,
			UpdatedAt: v.UpdatedAt,
			Decision:  p.dec[i],
			Reason:    p.reason[i],
			Rule:      p.ruleOf(i),
		}
		ps := p.parents[i]
		if p.allParents != nil {
			ps = p.allParents[i]
		}
		if len(ps) > 0 {
			vp.Parents = make([]string, len(ps))
			for k, q := range ps {
				vp.Parents[k] = p.vs[q].Name
			}
			sort.Strings(vp.Parents)
		}
		out[r] = vp
	}
	return out
}

// ruleOf returns the index of the rule whose verdict is the version's
// reason, or nil: a policy of one rule, or a reason no single rule gave
// (structure, guards, not-selected).
func (p *planner) ruleOf(i int32) *int {
	if !p.recordRules {
		return nil
	}
	var r int16
	switch reason := p.reason[i]; {
	case reason == p.keepReason[i] && reason != "":
		r = p.keepRule[i]
	case reason == ReasonSelected:
		r = p.delRule[i]
	case reason == ReasonYoungerThan:
		r = p.youngRule[i]
	default:
		return nil
	}
	n := int(r)
	return &n
}

// applyMaxDeletions keeps the deletions within the cap: delete groups, oldest
// first across packages, are taken while they fit; the first that does not
// fit and every later one are deferred (keep, max-deletions). An image is
// never split, so a run whose oldest image alone is larger than the cap
// deletes that image whole: otherwise it would be deferred on every run and
// nothing would ever be deleted.
func applyMaxDeletions(plan *Plan, limit int) {
	type ref struct {
		pkg int
		g   Group
		at  time.Time
		id  int64
	}
	var refs []ref
	for k := range plan.Packages {
		pp := &plan.Packages[k]
		for _, g := range Groups(pp) {
			root := &pp.Versions[g[0]]
			refs = append(refs, ref{pkg: k, g: g, at: updatedAtPlan(root), id: root.ID})
		}
	}
	sort.SliceStable(refs, func(a, b int) bool {
		x, y := &refs[a], &refs[b]
		if !x.at.Equal(y.at) {
			return x.at.Before(y.at)
		}
		if x.id != y.id {
			return x.id < y.id
		}
		return x.pkg < y.pkg
	})
	left := limit
	deferring := false
	for k, r := range refs {
		if !deferring && (len(r.g) <= left || k == 0) {
			left -= len(r.g)
			continue
		}
		deferring = true
		for _, i := range r.g {
			v := &plan.Packages[r.pkg].Versions[i]
			v.Decision, v.Reason = Keep, ReasonMaxDeletions
		}
	}
}

func updatedAtPlan(v *VersionPlan) time.Time {
	if v.UpdatedAt.IsZero() {
		return v.CreatedAt
	}
	return v.UpdatedAt
}

// BrokenImages returns the broken images of in, newest first: the
// indexes whose structure lists manifests that are not active versions,
// when tagged or not deleted by the plan (vps). An untagged index the plan
// deletes is not reported: nothing pulls it, and it is going.
func BrokenImages(in *PackageInput, vps []VersionPlan) []BrokenImage {
	if in.Structure == nil || len(in.Structure.Missing) == 0 {
		return nil
	}
	deleted := map[int64]bool{}
	for i := range vps {
		if vps[i].Decision == Delete {
			deleted[vps[i].ID] = true
		}
	}
	idx := make([]int32, 0, len(in.Structure.Missing))
	seen := map[int64]bool{}
	for i := range in.Versions {
		id := in.Versions[i].ID
		if len(in.Structure.Missing[id]) > 0 && !seen[id] && (len(in.Versions[i].Tags) > 0 || !deleted[id]) {
			seen[id] = true
			idx = append(idx, int32(i))
		}
	}
	sortNewestFirst(idx, in.Versions, updatedAt)
	out := make([]BrokenImage, 0, len(idx))
	for _, i := range idx {
		v := &in.Versions[i]
		b := BrokenImage{ID: v.ID, Digest: v.Name, Tags: append([]string{}, v.Tags...)}
		for _, d := range in.Structure.Missing[v.ID] {
			b.Missing = append(b.Missing, MissingChild{Digest: d})
		}
		out = append(out, b)
	}
	return out
}
