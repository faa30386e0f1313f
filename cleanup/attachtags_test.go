package cleanup_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/policy"
)

// TestPatternMeetingOnlyAttachmentTagsWarns checks the warning for a
// delete-tags or keep-tags pattern that matches no label of a package but
// matches its attachment tags (what users of other cleanup actions write
// to remove orphaned signatures), and that the plan is the one the same
// policy makes without the pattern.
func TestPatternMeetingOnlyAttachmentTagsWarns(t *testing.T) {
	d1 := "sha256:" + strings.Repeat("a1", 32)
	d2 := "sha256:" + strings.Repeat("b2", 32)
	gone := strings.Repeat("c3", 32) // a deleted image: its signature is an orphan
	versions := []fakegh.Version{
		{Name: d1, Tags: []string{"v1.0.0"}},
		{Name: d2, Tags: []string{"latest"}},
		{Name: "sha256:" + strings.Repeat("d4", 32), Tags: []string{"sha256-" + strings.Repeat("a1", 32) + ".sig"}},
		{Name: "sha256:" + strings.Repeat("e5", 32), Tags: []string{"sha256-" + strings.Repeat("b2", 32) + ".att"}},
		{Name: "sha256:" + strings.Repeat("f6", 32), Tags: []string{"sha256-" + gone + ".sig"}},
		{Name: "sha256:" + strings.Repeat("07", 32), Tags: []string{"sha256-" + strings.Repeat("a1", 32)}},
	}
	tests := []struct {
		name   string
		values map[string]string
		want   string // the warning's start; "" for none
	}{
		{"delete-tags sha256-*", map[string]string{"delete-tags": "sha256-*"}, `delete-tags: pattern "sha256-*" matches no tag of container package acme/app, only 4 attachment tags`},
		{"delete-tags *.sig", map[string]string{"delete-tags": "*.sig"}, `delete-tags: pattern "*.sig" matches no tag of container package acme/app, only 2 attachment tags`},
		{"delete-tags regexp", map[string]string{"delete-tags": `/.*\.att/`}, `delete-tags: pattern "/.*\\.att/" matches no tag of container package acme/app, only 1 attachment tag `},
		{"keep-tags sha256-*", map[string]string{"keep-tags": "sha256-*", "tag-state": "untagged"}, `keep-tags: pattern "sha256-*" matches no tag of container package acme/app, only 4 attachment tags`},
		{"a label matches", map[string]string{"delete-tags": "v*"}, ""},
		{"labels and attachments match", map[string]string{"delete-tags": "*"}, ""},
		{"nothing matches", map[string]string{"delete-tags": "pr-*"}, ""},
		{"digest pattern", map[string]string{"keep-tags": d1, "tag-state": "untagged"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.gh.AddOrg("acme")
			w.gh.AddPackage("acme", "container", "app", "private")
			for i, v := range versions {
				v.CreatedAt = epoch.Add(-time.Duration(len(versions)-i) * 24 * time.Hour)
				w.gh.AddVersion("acme", "container", "app", v)
			}
			values := map[string]string{"packages": "app", "package-type": "container", "dry-run": "true"}
			for k, v := range tt.values {
				values[k] = v
			}
			plan := w.run(t, mustPolicy(t, values))

			var warnings []string
			for _, l := range w.log.all() {
				if s, ok := strings.CutPrefix(l, "warning: "); ok {
					warnings = append(warnings, s)
				}
			}
			switch {
			case tt.want == "" && len(warnings) > 0:
				t.Errorf("warnings %q, want none", warnings)
			case tt.want != "" && (len(warnings) != 1 || !strings.HasPrefix(warnings[0], tt.want)):
				t.Errorf("warnings %q, want one starting %q", warnings, tt.want)
			case tt.want != "" && !strings.Contains(warnings[0], "`tag-state: untagged`"):
				t.Errorf("warning %q does not say what to write instead", warnings[0])
			}

			// Same plan as without the pattern: it matched no label.
			if tt.want != "" {
				without := map[string]string{}
				for k, v := range values {
					if k != "delete-tags" && k != "keep-tags" {
						without[k] = v
					}
				}
				if _, ok := without["tag-state"]; !ok {
					without["tag-state"] = "any"
					without["delete-tags"] = "no-such-tag"
				}
				w2 := newWorld(t)
				w2.gh.AddOrg("acme")
				w2.gh.AddPackage("acme", "container", "app", "private")
				for i, v := range versions {
					v.CreatedAt = epoch.Add(-time.Duration(len(versions)-i) * 24 * time.Hour)
					w2.gh.AddVersion("acme", "container", "app", v)
				}
				base := w2.run(t, mustPolicy(t, without))
				if got, want := decisions(plan), decisions(base); got != want {
					t.Errorf("plan changed by the pattern:\n got %s\nwant %s", got, want)
				}
			}
		})
	}
}

func decisions(p *policy.Plan) string {
	var b strings.Builder
	for _, pp := range p.Packages {
		for _, v := range pp.Versions {
			b.WriteString(v.Name[7:15] + "=" + string(v.Decision) + ":" + v.Reason + " ")
		}
	}
	return b.String()
}
