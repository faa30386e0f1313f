package cleanup_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pkgretention/retention/cleanup"
)

// TestSlowPaceIsTold checks that a pace of mutating requests slower than
// a few seconds apart is said once, with the count, the interval and the
// time it takes, and that the default pace says nothing.
func TestSlowPaceIsTold(t *testing.T) {
	tests := []struct {
		perMinute int
		want      string // "" for no line
	}{
		{6, "info: pacing: 30 requests to send, one every 10s (max-deletes-per-minute), about 4m50s in all"},
		{60, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.perMinute), func(t *testing.T) {
			w := newWorld(t)
			w.gh.AddOrg("acme")
			w.npmPackage("acme", "app", 40)
			p := mustPolicy(t, map[string]string{"package-type": "npm", "packages": "app", "keep-latest": "10"})
			if _, err := cleanup.Run(context.Background(), cleanup.Config{Policy: p, API: w.api, Clock: w.clk, DeletesPerMinute: tt.perMinute, Log: w.log}); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range w.log.all() {
				if strings.Contains(l, "pacing:") {
					got = append(got, l)
				}
			}
			switch {
			case tt.want == "" && len(got) != 0:
				t.Errorf("pacing lines %q, want none", got)
			case tt.want != "" && (len(got) != 1 || got[0] != tt.want):
				t.Errorf("pacing lines %q, want [%q]", got, tt.want)
			}
		})
	}
}
