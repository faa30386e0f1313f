package policy

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Edge cases a user meets: images whose platform manifests carry tags of
// their own, a cap smaller than one image, selectors given but empty, and
// the last-version guard beside an orphan signature.

var edgeNow = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func edgeVersion(id int64, tags []string, age time.Duration) Version {
	at := edgeNow.Add(-age)
	return Version{ID: id, Name: edgeDigest(id), Tags: tags, CreatedAt: at, UpdatedAt: at}
}

func edgeDigest(id int64) string { return fmt.Sprintf("sha256:%064x", id) }

func edgeDecision(t *testing.T, pl *Plan, pkg string, id int64) (Decision, string) {
	t.Helper()
	for _, pp := range pl.Packages {
		if pp.Name != pkg {
			continue
		}
		for _, v := range pp.Versions {
			if v.ID == id {
				return v.Decision, v.Reason
			}
		}
	}
	t.Fatalf("version %d of %s not in the plan", id, pkg)
	return "", ""
}

// perArchImages is three manifest lists v1, v2, v3 (ids 1, 3, 5), each
// listing a platform manifest tagged vN-amd64 (ids 2, 4, 6), as
// `docker manifest create` builds them.
func perArchImages() []PackageInput {
	const day = 24 * time.Hour
	m := time.Minute
	return []PackageInput{{Owner: "acme", Type: Container, Name: "app", Complete: true, Versions: []Version{
		edgeVersion(1, []string{"v1"}, 30*day), edgeVersion(2, []string{"v1-amd64"}, 30*day+m),
		edgeVersion(3, []string{"v2"}, 20*day), edgeVersion(4, []string{"v2-amd64"}, 20*day+m),
		edgeVersion(5, []string{"v3"}, 10*day), edgeVersion(6, []string{"v3-amd64"}, 10*day+m),
	}, Structure: &Structure{Parents: map[int64][]int64{2: {1}, 4: {3}, 6: {5}}}}}
}

func TestTaggedMembersTakeNoKeepLatestPlace(t *testing.T) {
	p := mustParse(t, map[string]string{"packages": "app", "tag-state": "tagged", "keep-latest": "2"})
	pl := Build(p, perArchImages(), edgeNow)
	want := map[int64]Decision{1: Delete, 2: Delete, 3: Keep, 4: Keep, 5: Keep, 6: Keep}
	for id, d := range want {
		if got, reason := edgeDecision(t, pl, "app", id); got != d {
			t.Errorf("version %d: %s (%s), want %s: keep-latest 2 keeps the images v3 and v2 whole", id, got, reason, d)
		}
	}
}

func TestUntaggedRuleNeverTakesAMembersOwnTag(t *testing.T) {
	// The index of v1 lost its tag (moved to a newer build): a rule for
	// untagged versions deletes it, but not its platform manifest, which
	// still carries the tag v1-amd64.
	in := perArchImages()
	in[0].Versions[0].Tags = nil
	p := mustParse(t, map[string]string{"packages": "app", "tag-state": "untagged"})
	pl := Build(p, in, edgeNow)
	if d, r := edgeDecision(t, pl, "app", 1); d != Delete {
		t.Errorf("the untagged index: %s (%s), want delete", d, r)
	}
	if d, r := edgeDecision(t, pl, "app", 2); d != Keep || r != ReasonNotSelected {
		t.Errorf("its platform manifest tagged v1-amd64: %s (%s), want keep (not-selected)", d, r)
	}
}

func TestMaxDeletionsSmallerThanTheOldestImageStillProgresses(t *testing.T) {
	const day = 24 * time.Hour
	in := []PackageInput{
		{Owner: "acme", Type: Container, Name: "app", Complete: true, Versions: []Version{
			edgeVersion(1, []string{"old"}, 100*day), edgeVersion(2, nil, 100*day), edgeVersion(3, nil, 100*day), edgeVersion(4, nil, 100*day),
			edgeVersion(5, []string{"new"}, day),
		}, Structure: &Structure{Parents: map[int64][]int64{2: {1}, 3: {1}, 4: {1}}}},
		{Owner: "acme", Type: Container, Name: "lib", Complete: true, Versions: []Version{
			edgeVersion(11, []string{"a"}, 50*day), edgeVersion(12, []string{"b"}, 40*day), edgeVersion(13, []string{"c"}, day),
		}},
	}
	p := mustParse(t, map[string]string{"packages": "app, lib", "older-than": "7d", "max-deletions": "3"})
	pl := Build(p, in, edgeNow)
	for _, id := range []int64{1, 2, 3, 4} {
		if d, _ := edgeDecision(t, pl, "app", id); d != Delete {
			t.Errorf("version %d of the oldest image: %s, want delete (the image goes whole, alone)", id, d)
		}
	}
	for _, id := range []int64{11, 12} {
		if d, r := edgeDecision(t, pl, "lib", id); d != Keep || r != ReasonMaxDeletions {
			t.Errorf("lib version %d: %s (%s), want deferred by max-deletions", id, d, r)
		}
	}
}

func TestEmptySelectorIsAnInputError(t *testing.T) {
	files := []string{
		"rules:\n  - packages: app\n    delete-tags: []\n",
		"rules:\n  - packages: app\n    delete-tags: \"\"\n",
		"rules:\n  - packages: app\n    keep-tags: \" , \"\n",
	}
	for _, f := range files {
		_, err := Parse(Inputs{Values: map[string]string{"policy-file": "p.yml"}, PolicyFile: []byte(f), DefaultOwner: "acme"})
		if err == nil || !strings.Contains(err.Error(), "holds no pattern") {
			t.Errorf("policy file %q: error %v, want one saying the list holds no pattern", f, err)
		}
	}
	_, err := Parse(Inputs{Values: map[string]string{"packages": "app", "delete-tags": " ,\n, "}, DefaultOwner: "acme"})
	if err == nil || !strings.HasPrefix(err.Error(), "delete-tags: holds no pattern") {
		t.Errorf("delete-tags of commas and blanks: error %v, want delete-tags: holds no pattern", err)
	}
}

func TestLastTaggedGuardPrefersAnImageToAnOrphanSignature(t *testing.T) {
	const day = 24 * time.Hour
	in := []PackageInput{{Owner: "acme", Type: Container, Name: "app", Complete: true, Versions: []Version{
		edgeVersion(1, []string{"v1"}, 30*day),
		edgeVersion(2, []string{"sha256-" + strings.Repeat("b", 64) + ".sig"}, 20*day), // its image is gone
	}, Structure: &Structure{}}}
	pl := Build(mustParse(t, map[string]string{"packages": "app"}), in, edgeNow)
	if d, r := edgeDecision(t, pl, "app", 1); d != Protected || r != ReasonLastVersion {
		t.Errorf("the last image v1: %s (%s), want protected (last-version)", d, r)
	}
	if d, _ := edgeDecision(t, pl, "app", 2); d != Delete {
		t.Errorf("the orphan signature: %s, want delete", d)
	}
}
