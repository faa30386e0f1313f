package cleanup

import (
	"reflect"
	"testing"

	"github.com/pkgretention/retention/policy"
)

// vp builds a plan entry; plans list versions newest first, so tests list
// them that way too.
func vp(id int64, name string, d policy.Decision, parents ...string) policy.VersionPlan {
	return policy.VersionPlan{ID: id, Name: name, Decision: d, Parents: parents}
}

func groupIDs(pp *policy.PackagePlan, gs []group) [][]int64 {
	var out [][]int64
	for _, g := range gs {
		ids := []int64{pp.Versions[g.root].ID}
		for _, m := range g.members {
			ids = append(ids, pp.Versions[m].ID)
		}
		out = append(out, ids)
	}
	return out
}

func TestDeletionGroups(t *testing.T) {
	del, keep := policy.Delete, policy.Keep
	tests := []struct {
		name     string
		versions []policy.VersionPlan
		want     [][]int64
	}{
		{
			name:     "single versions go oldest first",
			versions: []policy.VersionPlan{vp(3, "c", del), vp(2, "b", keep), vp(1, "a", del)},
			want:     [][]int64{{1}, {3}},
		},
		{
			name: "an index goes before its platform manifests and their signatures",
			versions: []policy.VersionPlan{
				vp(10, "idx", del),
				vp(11, "amd64", del, "idx"),
				vp(12, "arm64", del, "idx"),
				vp(13, "sig", del, "idx"),
				vp(14, "att-of-amd64", del, "amd64"),
			},
			want: [][]int64{{10, 11, 12, 13, 14}},
		},
		{
			name: "a member shared by two deleted indexes goes with the newer one",
			versions: []policy.VersionPlan{
				vp(20, "new", del),
				vp(10, "old", del),
				vp(5, "shared", del, "new", "old"),
				vp(6, "only-old", del, "old"),
			},
			want: [][]int64{{10, 6}, {20, 5}},
		},
		{
			name: "a member of a kept index is not a root",
			versions: []policy.VersionPlan{
				vp(2, "idx", keep),
				vp(1, "child", keep, "idx"),
				vp(0, "orphan", del),
			},
			want: [][]int64{{0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pp := &policy.PackagePlan{Versions: tt.versions}
			if got := groupIDs(pp, deletionGroups(pp)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("groups = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParentsBlock(t *testing.T) {
	byName := map[string]*policy.VersionPlan{
		"gone":      {Name: "gone", Decision: policy.Delete, Result: policy.ResultDeleted},
		"was-gone":  {Name: "was-gone", Decision: policy.Delete, Result: policy.ResultAlreadyGone},
		"protected": {Name: "protected", Decision: policy.Delete, Result: policy.ResultProtected},
		"failed":    {Name: "failed", Decision: policy.Delete, Result: policy.ResultFailedPrefix + "boom"},
		"kept":      {Name: "kept", Decision: policy.Keep},
	}
	tests := []struct {
		parents []string
		want    string
	}{
		{[]string{"gone", "was-gone"}, ""},
		{[]string{"gone", "protected"}, policy.ResultProtected},
		{[]string{"failed", "gone"}, policy.ResultDeferred},
		{[]string{"failed", "protected"}, policy.ResultProtected},
		{[]string{"kept-elsewhere-unknown"}, ""},
	}
	for _, tt := range tests {
		v := &policy.VersionPlan{Parents: tt.parents}
		if got := parentsBlock(v, byName); got != tt.want {
			t.Errorf("parentsBlock(%v) = %q, want %q", tt.parents, got, tt.want)
		}
	}
}

func TestRestoreOrder(t *testing.T) {
	vs := []policy.VersionPlan{
		vp(10, "idx", policy.Delete),
		vp(13, "sig", policy.Delete, "idx"),
		vp(11, "amd64", policy.Delete, "idx"),
		vp(14, "att-of-amd64", policy.Delete, "amd64"),
		vp(1, "lone", policy.Delete),
	}
	var got []int64
	for _, i := range restoreOrder(vs) {
		got = append(got, vs[i].ID)
	}
	want := []int64{14, 11, 13, 1, 10}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("restore order = %v, want %v", got, want)
	}
}
