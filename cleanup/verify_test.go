package cleanup

import (
	"reflect"
	"testing"

	"github.com/pkgretention/retention/policy"
)

func TestAtRisk(t *testing.T) {
	del := policy.ResultDeleted
	for _, tc := range []struct {
		name     string
		versions []policy.VersionPlan
		children map[string][]string
		want     map[string]bool
		all      bool
	}{
		{"index lost a member, and its parent",
			[]policy.VersionPlan{
				{Name: "top", Tags: []string{"v1"}},
				{Name: "mid", Parents: []string{"top"}},
				{Name: "m", Parents: []string{"mid"}, Result: del},
				{Name: "other", Tags: []string{"v2"}},
			}, nil, map[string]bool{"top": true, "mid": true}, false},
		{"kept image shares a member with a deleted index",
			[]policy.VersionPlan{
				{Name: "old", Result: del},
				{Name: "shared", Parents: []string{"old", "keep"}},
				{Name: "keep", Tags: []string{"v1"}},
				{Name: "other", Tags: []string{"v2"}},
			}, map[string][]string{"old": {"shared"}}, map[string]bool{"shared": true, "keep": true}, false},
		{"nothing shared",
			[]policy.VersionPlan{
				{Name: "old", Result: del},
				{Name: "keep", Tags: []string{"v1"}},
			}, nil, map[string]bool{}, false},
		{"unreadable: everything",
			[]policy.VersionPlan{
				{Name: "old", Result: del},
				{Name: "u", Reason: policy.ReasonUnreadable},
			}, nil, map[string]bool{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pp := &policy.PackagePlan{Versions: tc.versions}
			got, all := atRisk(pp, func(d string) ([]string, bool) { c, ok := tc.children[d]; return c, ok })
			if !reflect.DeepEqual(got, tc.want) || all != tc.all {
				t.Errorf("atRisk = %v, %v; want %v, %v", got, all, tc.want, tc.all)
			}
		})
	}
}
