package policy

import (
	"reflect"
	"strings"
	"testing"
)

// image-state broken selects the indexes whose structure lists manifests
// that are not active versions; keep rules still win; the plan lists the
// broken images it saw, tagged or kept, whatever the rules select.
func TestImageStateBroken(t *testing.T) {
	// 10: broken tagged index (child 11 left, one missing); 20: whole
	// tagged index with child 21; 30: broken index tagged "latest";
	// 40: broken untagged index (children all missing).
	vs := []tv{
		{id: 10, tags: []string{"v1"}, age: 40 * d}, {id: 11, age: 40 * d, parents: []int64{10}},
		{id: 20, tags: []string{"v2"}, age: 30 * d}, {id: 21, age: 30 * d, parents: []int64{20}},
		{id: 30, tags: []string{"latest"}, age: 20 * d},
		{id: 40, age: 10 * d},
	}
	missing := map[int64][]string{10: {digestOf(12)}, 30: {digestOf(31), digestOf(32)}, 40: {digestOf(41)}}
	tests := []struct {
		name       string
		inputs     map[string]string
		want       map[int64]string
		wantBroken []int64
	}{
		{
			name:   "broken selects broken images only, keep-tags wins",
			inputs: map[string]string{"packages": "p", "image-state": "broken", "keep-tags": "latest"},
			want: map[int64]string{10: "delete selected", 11: "delete child-of:#10", 20: "keep not-selected", 21: "keep child-of:#20",
				30: "keep keep-tags:latest", 40: "delete selected"},
			wantBroken: []int64{30, 10}, // 40 is untagged and deleted: not reported
		},
		{
			name:       "broken with tag-state untagged",
			inputs:     map[string]string{"packages": "p", "image-state": "BROKEN", "tag-state": "untagged"},
			want:       map[int64]string{10: "keep not-selected", 11: "keep child-of:#10", 20: "keep not-selected", 21: "keep child-of:#20", 30: "keep not-selected", 40: "delete selected"},
			wantBroken: []int64{30, 10},
		},
		{
			name:       "any is the default and changes nothing",
			inputs:     map[string]string{"packages": "p", "image-state": "any", "tag-state": "tagged", "keep-latest": "3"},
			want:       map[int64]string{10: "keep keep-latest", 11: "keep child-of:#10", 20: "keep keep-latest", 21: "keep child-of:#20", 30: "keep keep-latest", 40: "keep not-selected"},
			wantBroken: []int64{40, 30, 10},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testPackage(Container, "p", vs)
			in.Structure.Missing = missing
			pol := mustParse(t, tt.inputs)
			pkgs := []PackageInput{in}
			plan := Build(pol, pkgs, testNow)
			pp := &plan.Packages[0]
			if got := outcome(pp); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("plan\n got %v\nwant %v", got, tt.want)
			}
			var broken []int64
			for _, b := range pp.Broken {
				broken = append(broken, b.ID)
			}
			if !reflect.DeepEqual(broken, tt.wantBroken) {
				t.Errorf("broken images %v, want %v", broken, tt.wantBroken)
			}
			checkInvariants(t, pol, pkgs, plan)
		})
	}
}

func TestImageStateErrors(t *testing.T) {
	for _, tt := range []struct {
		inputs map[string]string
		want   string
	}{
		{map[string]string{"packages": "p", "image-state": "whole"}, `"whole" is not an image state; use any or broken`},
		{map[string]string{"packages": "p", "package-type": "npm", "image-state": "broken"}, "applies to container packages only"},
	} {
		_, err := Parse(Inputs{Values: tt.inputs, DefaultOwner: "acme"})
		if err == nil || !strings.Contains(err.Error(), "image-state") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want one naming image-state: %s", tt.inputs, err, tt.want)
		}
	}
}
