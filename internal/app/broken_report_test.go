package app

import (
	"strings"
	"testing"
	"time"
)

// A run that sees a broken image says so everywhere a user looks: the
// broken-count output, a warning naming the tag, and a "Broken images"
// section of the summary naming the missing child; and it exits 0.
func TestBrokenImagesAreReportedInOutputsSummaryAndWarning(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	missing := platformOf(t, w.releases[1])
	w.otherToolDeletes(t, missing)
	w.clk.Advance(3 * 24 * time.Hour)

	r := newRunner(t, w.srv.URL, map[string]string{
		"package-type": "container", "packages": "app", "registry-url": w.reg.URL(),
		"tag-state": "untagged",
	})
	r.clock = w.clk
	r.run(t)

	if r.code != ExitOK {
		t.Fatalf("exit %d, want 0\n%s", r.code, r.stdoutText)
	}
	r.checkOutputs(t, map[string]string{outBroken: "1", outFailed: "0"})
	if !strings.Contains(r.stdoutText, "::warning::1 broken image: acme/app:v1.1.0") {
		t.Errorf("no warning naming the broken image:\n%s", r.stdoutText)
	}
	short := missing[:len("sha256:")+12]
	if !strings.Contains(r.summaryText, "**Broken images**") || !strings.Contains(r.summaryText, "| v1.1.0 |") ||
		!strings.Contains(r.summaryText, short) {
		t.Errorf("summary lacks the broken image v1.1.0 missing %s:\n%s", short, r.summaryText)
	}
}

// A package with nothing broken reports broken-count 0 and no warning.
func TestNoBrokenImageNoWarning(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	r := newRunner(t, w.srv.URL, map[string]string{
		"package-type": "container", "packages": "app", "registry-url": w.reg.URL(),
		"tag-state": "untagged",
	})
	r.clock = w.clk
	r.run(t)
	r.checkOutputs(t, map[string]string{outBroken: "0", outFailed: "0"})
	if strings.Contains(r.stdoutText, "broken image") || strings.Contains(r.summaryText, "Broken images") {
		t.Errorf("a whole package reported broken:\n%s", r.stdoutText)
	}
}
