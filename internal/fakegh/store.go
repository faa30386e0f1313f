package fakegh

import (
	"slices"
	"time"
)

// state is a version's life cycle: active, deleted (restorable) and purged
// (deleted more than RestoreWindow ago, gone for good).
type state int8

const (
	stateActive state = iota
	stateDeleted
	statePurged
)

type version struct {
	Version
	pkg   *pkg
	state state
	pos   int // index in pkg.vers, valid unless pkg.stale
}

// less orders versions oldest first: by CreatedAt, then ID.
func (v *version) less(w *version) bool {
	if c := v.CreatedAt.Compare(w.CreatedAt); c != 0 {
		return c < 0
	}
	return v.ID < w.ID
}

func (v *version) copy() Version {
	c := v.Version
	c.Tags = slices.Clone(v.Tags)
	return c
}

// pkg is one package. Its versions live in vers, oldest first; active and
// deleted are Fenwick trees over vers counting the versions in each state,
// so that the k-th version of a state is found in O(log n) and a state
// change costs O(log n). Seeding only appends and marks the index stale;
// it is rebuilt (sorted if needed) once, on the next read.
type pkg struct {
	id         int64
	owner      *account
	typ        string
	name       string
	visibility string
	repo       string
	repoID     int64
	createdAt  time.Time
	updatedAt  time.Time
	forbidden  bool
	deleted    bool
	deletedAt  time.Time
	failPages  map[int]int

	vers     []*version
	unsorted bool // vers is not in order
	stale    bool // pos and the trees are out of date
	active   fenwick
	removed  fenwick // versions in stateDeleted

	nActive, nDeleted, nActiveTagged int
	names                            map[string]int // active versions per name
	tags                             map[string]int // active versions per tag

	purgeQ    []purgeEntry // deletions in the order they happened
	purgeHead int
}

type purgeEntry struct {
	v  *version
	at time.Time
}

func (p *pkg) count(st state) int {
	if st == stateActive {
		return p.nActive
	}
	return p.nDeleted
}

// index brings vers, pos and the trees up to date.
func (p *pkg) index() {
	if !p.stale {
		return
	}
	if p.unsorted {
		slices.SortFunc(p.vers, func(a, b *version) int {
			if a.less(b) {
				return -1
			}
			if b.less(a) {
				return 1
			}
			return 0
		})
		p.unsorted = false
	}
	act := make([]bool, len(p.vers))
	del := make([]bool, len(p.vers))
	for i, v := range p.vers {
		v.pos = i
		act[i] = v.state == stateActive
		del[i] = v.state == stateDeleted
	}
	p.active = buildFenwick(act)
	p.removed = buildFenwick(del)
	p.stale = false
}

// page returns the versions of a state ranked from+1 .. from+n, newest
// first (rank 1 is the newest).
func (p *pkg) page(st state, from, n int) []*version {
	p.index()
	tree := p.active
	if st == stateDeleted {
		tree = p.removed
	}
	total := p.count(st)
	if from >= total || n <= 0 {
		return nil
	}
	n = min(n, total-from)
	out := make([]*version, n)
	for i := range n {
		rank := from + i + 1
		out[i] = p.vers[tree.find(total-rank+1)]
	}
	return out
}

// activate counts a newly added active version.
func (p *pkg) activate(v *version) {
	v.state = stateActive
	p.nActive++
	p.names[v.Name]++
	if len(v.Tags) > 0 {
		p.nActiveTagged++
	}
	for _, t := range v.Tags {
		p.tags[t]++
	}
}

// setState moves a version between states, keeping the counters, the name
// and tag counts and the trees right.
func (p *pkg) setState(v *version, st state) {
	if v.state == st {
		return
	}
	if !p.stale {
		if d := treeOf(p, v.state); d != nil {
			d.add(v.pos, -1)
		}
		if d := treeOf(p, st); d != nil {
			d.add(v.pos, +1)
		}
	}
	switch v.state {
	case stateActive:
		p.nActive--
		p.names[v.Name]--
		if p.names[v.Name] == 0 {
			delete(p.names, v.Name)
		}
		if len(v.Tags) > 0 {
			p.nActiveTagged--
		}
		for _, t := range v.Tags {
			p.tags[t]--
			if p.tags[t] == 0 {
				delete(p.tags, t)
			}
		}
	case stateDeleted:
		p.nDeleted--
	}
	switch st {
	case stateActive:
		p.activate(v)
	case stateDeleted:
		p.nDeleted++
	}
	v.state = st
}

func treeOf(p *pkg, st state) *fenwick {
	switch st {
	case stateActive:
		return &p.active
	case stateDeleted:
		return &p.removed
	}
	return nil
}

// remove deletes an active version at now.
func (p *pkg) remove(v *version, now time.Time) {
	p.setState(v, stateDeleted)
	v.DeletedAt = now
	p.purgeQ = append(p.purgeQ, purgeEntry{v: v, at: now})
}

// restore makes a deleted version active again.
func (p *pkg) restore(v *version) {
	p.setState(v, stateActive)
	v.DeletedAt = time.Time{}
}

// purge drops the versions deleted more than RestoreWindow before now.
// The clock only moves forward, so the queue is in deletion order and the
// work is amortised O(1) per deletion.
func (p *pkg) purge(now time.Time) {
	for p.purgeHead < len(p.purgeQ) {
		e := p.purgeQ[p.purgeHead]
		if e.v.state == stateDeleted && e.v.DeletedAt.Equal(e.at) {
			if now.Sub(e.at) < RestoreWindow {
				break
			}
			p.setState(e.v, statePurged)
		}
		p.purgeQ[p.purgeHead] = purgeEntry{}
		p.purgeHead++
	}
	if p.purgeHead > 1024 && p.purgeHead > len(p.purgeQ)/2 {
		p.purgeQ = append(p.purgeQ[:0], p.purgeQ[p.purgeHead:]...)
		p.purgeHead = 0
	}
}

// conflict reports whether an active version now uses v's name or one of
// its tags, which forbids restoring v.
func (p *pkg) conflict(v *version) bool {
	if p.names[v.Name] > 0 {
		return true
	}
	for _, t := range v.Tags {
		if p.tags[t] > 0 {
			return true
		}
	}
	return false
}

// fenwick is a binary indexed tree of counts over positions 0..n-1.
type fenwick []int32

func buildFenwick(set []bool) fenwick {
	f := make(fenwick, len(set)+1)
	for i, b := range set {
		if b {
			f[i+1]++
		}
		if j := (i + 1) + (i+1)&-(i+1); j < len(f) {
			f[j] += f[i+1]
		}
	}
	return f
}

// add adds d at position i.
func (f fenwick) add(i int, d int32) {
	for i++; i < len(f); i += i & -i {
		f[i] += d
	}
}

// find returns the position of the k-th (1-based) counted entry; k must be
// between 1 and the total.
func (f fenwick) find(k int) int {
	pos := 0
	step := 1
	for step*2 < len(f) {
		step *= 2
	}
	rem := int32(k)
	for ; step > 0; step >>= 1 {
		if next := pos + step; next < len(f) && f[next] < rem {
			pos = next
			rem -= f[next]
		}
	}
	return pos // 1-based pos+1 holds the k-th entry
}
