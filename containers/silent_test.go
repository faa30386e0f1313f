package containers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/pipenet"
	"github.com/pkgretention/retention/policy"
)

// TestSilentRegistryIsBoundedAndTold checks that a registry which accepts
// the connection and never answers fails the read after the attempts'
// timeouts and backoffs, each retry told with its attempt and wait.
func TestSilentRegistryIsBoundedAndTold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var peer pipenet.Silent
		base := &http.Transport{DialContext: peer.Dial}
		defer base.CloseIdleConnections()
		var lines []string
		r, err := NewReader(Options{
			RegistryURL: "http://registry.test",
			Token:       "s3cret",
			Transport:   base,
			Clock:       clock.Real{}, // synctest's time
			Logf: func(format string, args ...any) {
				mu.Lock()
				lines = append(lines, fmt.Sprintf(format, args...))
				mu.Unlock()
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		versions := []policy.Version{{ID: 1, Name: "sha256:" + strings.Repeat("a", 64), Tags: []string{"v1"}}}
		start := time.Now()
		_, _, err = r.Structure(context.Background(), "acme", "app", versions)
		took := time.Since(start)

		if err == nil || !strings.Contains(err.Error(), "no answer within 30s") {
			t.Errorf("error %v, want no answer within 30s", err)
		}
		// Four attempts of 30 s, three backoffs of at most 1, 2 and 4 s.
		if lo, hi := 4*DefaultAttemptTimeout, 4*DefaultAttemptTimeout+7*time.Second; took < lo || took > hi {
			t.Errorf("the read failed after %s, want between %s and %s", took, lo, hi)
		}
		mu.Lock()
		defer mu.Unlock()
		// Each attempt pings the registry (go-containerregistry tries
		// https and http for a registry given as http://).
		if n := peer.Conns(); n < 4 {
			t.Errorf("%d connections, want at least 4 (one per attempt)", n)
		}
		retries := 0
		for _, l := range lines {
			if strings.Contains(l, "failed, retrying in ") && strings.Contains(l, "no answer within 30s") {
				retries++
			}
		}
		if retries != 3 {
			t.Errorf("%d retry lines, want 3:\n%s", retries, strings.Join(lines, "\n"))
		}
	})
}
