package cleanup_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pkgretention/retention/cleanup"
	"github.com/pkgretention/retention/internal/clock"
)

// silentPeer is a server that accepts every connection and reads the
// requests but never answers, over in-memory connections (net.Pipe) so
// that testing/synctest can run its time.
type silentPeer struct {
	mu    sync.Mutex
	conns int
}

func (p *silentPeer) dial(context.Context, string, string) (net.Conn, error) {
	client, server := net.Pipe()
	p.mu.Lock()
	p.conns++
	p.mu.Unlock()
	go func() {
		_, _ = io.Copy(io.Discard, server) // until the client gives up
		server.Close()
	}()
	return client, nil
}

// TestSilentServerIsBoundedAndTold checks that a server which accepts the
// connection and never answers fails a request after the attempts' timeouts
// and backoffs, not minutes later, and that the wait is told while it lasts:
// a line when an attempt goes unanswered for NoticeAfter, a line for each
// abandoned attempt with the wait before the next.
func TestSilentServerIsBoundedAndTold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		peer := &silentPeer{}
		base := &http.Transport{DialContext: peer.dial}
		defer base.CloseIdleConnections()
		var mu sync.Mutex
		var lines []string
		g, err := cleanup.NewGitHub(cleanup.GitHubOptions{
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
		if lo, hi := 4*cleanup.DefaultAttemptTimeout, 4*cleanup.DefaultAttemptTimeout+7*time.Second; took < lo || took > hi {
			t.Errorf("the request failed after %s, want between %s and %s", took, lo, hi)
		}
		if peer.conns != 4 {
			t.Errorf("%d connections, want 4 (one per attempt)", peer.conns)
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
