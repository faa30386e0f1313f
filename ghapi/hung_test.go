package ghapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pkgretention/retention/ghapi"
	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/pipenet"
)

// TestSilentServerIsBoundedAndTold checks that a server which accepts the
// connection and never answers fails a request after the attempts' timeouts
// and backoffs, not minutes later, and that the wait is told while it lasts:
// a line when an attempt goes unanswered for NoticeAfter, a line for each
// abandoned attempt with the wait before the next.
func TestSilentServerIsBoundedAndTold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var peer pipenet.Silent
		base := &http.Transport{DialContext: peer.Dial}
		defer base.CloseIdleConnections()
		var mu sync.Mutex
		var lines []string
		g, err := ghapi.NewGitHub(ghapi.GitHubOptions{
			BaseURL:   "http://api.github.test",
			Token:     "s3cret",
			Transport: base,
			Clock:     clock.Real{}, // synctest's time
			Notify: func(msg string) {
				mu.Lock()
				lines = append(lines, msg)
				mu.Unlock()
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = g.LookupOwner(context.Background(), "acme")
		took := time.Since(start)

		if err == nil || !strings.Contains(err.Error(), "giving up after 4 attempts: no answer within 30s") {
			t.Errorf("error %v, want giving up after 4 attempts: no answer within 30s", err)
		}
		// Four attempts of 30 s, and three backoffs of at most 1, 2 and 4 s.
		if lo, hi := 4*ghapi.DefaultAttemptTimeout, 4*ghapi.DefaultAttemptTimeout+7*time.Second; took < lo || took > hi {
			t.Errorf("the request failed after %s, want between %s and %s", took, lo, hi)
		}
		if n := peer.Conns(); n != 4 {
			t.Errorf("%d connections, want 4 (one per attempt)", n)
		}
		mu.Lock()
		defer mu.Unlock()
		var waiting, retrying int
		for _, l := range lines {
			switch {
			case strings.HasPrefix(l, "GET /users/acme: no answer yet after 5s (attempt "):
				waiting++
			case strings.HasPrefix(l, "GET /users/acme: no answer within 30s (attempt ") && strings.Contains(l, "; retrying in "):
				retrying++
			default:
				t.Errorf("unexpected line %q", l)
			}
		}
		if waiting != 4 || retrying != 3 {
			t.Errorf("%d waiting and %d retrying lines, want 4 and 3:\n%s", waiting, retrying, strings.Join(lines, "\n"))
		}
		for i, want := range []string{"(attempt 1 of 4; giving this attempt up to 30s)", "(attempt 1 of 4); retrying in", "(attempt 2 of 4; giving"} {
			if i >= len(lines) || !strings.Contains(lines[i], want) {
				t.Errorf("line %d %q, want it to contain %q", i, lines[min(i, len(lines)-1)], want)
			}
		}
	})
}
