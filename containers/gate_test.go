package containers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakeregistry"
	"github.com/pkgretention/retention/policy"
)

// arrival is one request as the registry received it, timed on the test's
// clock.
type arrival struct {
	method, path string
	at           time.Time
}

// A Retry-After met while reading one package holds the reads of every
// other package of the same Reader, whichever call they belong to: a
// request started after the gate closed reaches the registry only once it
// opens. A Retry-After beyond MaxRetryAfter fails the read told so
// (unreadable: fail closed) and closes the gate for MaxRetryAfter.
func TestRetryAfterHoldsEveryPackage(t *testing.T) {
	const other = "acme/lib" // package "lib" of owner "Acme"
	tests := []struct {
		name       string
		retryAfter time.Duration
		times      int    // throttled answers of app's manifest (-1: always)
		trigger    string // the log line that says the gate is closed
		verify     bool   // lib is verified rather than read
		wantGate   time.Duration
		wantAppErr string // app's manifest unreadable with this, or readable
	}{
		{name: "short, Structure and Structure", retryAfter: 40 * time.Second, times: 1, trigger: "retrying", wantGate: 40 * time.Second},
		{name: "short, Structure and Verify", retryAfter: 40 * time.Second, times: 1, trigger: "retrying", verify: true, wantGate: 40 * time.Second},
		{name: "beyond MaxRetryAfter", retryAfter: time.Hour, times: -1, trigger: "asked to wait", wantGate: containers.DefaultMaxRetryAfter, wantAppErr: "asked to wait 1h0m0s, more than 2m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewWatched(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), false)
			reg := fakeregistry.New(fakeregistry.Options{Token: "ghp_test"})
			var (
				mu       sync.Mutex
				arrivals []arrival
			)
			arrived := make(chan struct{}, 1)
			var armed atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				arrivals = append(arrivals, arrival{r.Method, r.URL.Path, clk.Now()})
				mu.Unlock()
				if armed.Load() {
					select {
					case arrived <- struct{}{}:
					default:
					}
				}
				reg.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			app := must[fakeregistry.Pushed](t)(reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"v1"}}))
			lib := must[fakeregistry.Pushed](t)(reg.PushImage(other, fakeregistry.ImageOptions{Tags: []string{"v1"}}))
			reg.ThrottleManifest(repo, app.Digest, tt.times, tt.retryAfter)

			type result struct {
				st       *policy.Structure
				stats    containers.Stats
				problems []containers.Problem
				err      error
			}
			libDone := make(chan result, 1)
			var (
				r        *containers.Reader
				fired    atomic.Bool
				gateAt   time.Time
				gateFrom int // first arrival after the gate closed
			)
			var err error
			r, err = containers.NewReader(containers.Options{
				RegistryURL: srv.URL,
				Token:       "ghp_test",
				Transport:   &http.Transport{},
				Clock:       clk,
				Logf: func(format string, args ...any) {
					if !strings.Contains(fmt.Sprintf(format, args...), tt.trigger) {
						return
					}
					if !fired.CompareAndSwap(false, true) {
						return
					}
					// app's read was told to wait and its gate is closed:
					// start lib now, and let it reach the gate (a wait on
					// the clock) or, were the gate app's alone, the
					// registry, before app goes on.
					mu.Lock()
					gateAt, gateFrom = clk.Now(), len(arrivals)
					mu.Unlock()
					armed.Store(true)
					go func() {
						ctx := context.Background()
						if tt.verify {
							ps, err := r.Verify(ctx, owner, "lib", []string{"v1"}, nil)
							libDone <- result{problems: ps, err: err}
							return
						}
						st, stats, err := r.Structure(ctx, owner, "lib", []policy.Version{{ID: 1, Name: lib.Digest, Tags: []string{"v1"}}})
						libDone <- result{st: st, stats: stats, err: err}
					}()
					select {
					case <-clk.Sleeps:
					case <-arrived:
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			st, stats, err := r.Structure(context.Background(), owner, pkg, []policy.Version{{ID: 1, Name: app.Digest, Tags: []string{"v1"}}})
			if err != nil {
				t.Fatalf("Structure of app: %v", err)
			}
			if !fired.Load() {
				t.Fatalf("no log line with %q", tt.trigger)
			}
			lr := <-libDone
			if lr.err != nil {
				t.Fatalf("lib: %v", lr.err)
			}

			// Nothing reached the registry while the gate was closed.
			mu.Lock()
			for _, a := range arrivals[gateFrom:] {
				if a.at.Before(gateAt.Add(tt.wantGate)) {
					t.Errorf("%s %s arrived at +%s, while every request was to wait %s from +%s", a.method, a.path, a.at.Sub(arrivals[0].at), tt.wantGate, gateAt.Sub(arrivals[0].at))
				}
			}
			mu.Unlock()
			if s := clk.Slept(); s != tt.wantGate {
				t.Errorf("slept %s, want %s (one shared wait)", s, tt.wantGate)
			}

			// app: read after the wait, or unreadable (fail closed) and
			// asked for once only.
			if tt.wantAppErr == "" {
				if len(st.Unreadable) != 0 || stats.ManifestsRead != 1 || stats.Retries != 1 || stats.Requests != 4 {
					t.Errorf("app: structure %+v stats %+v, want read after 1 retry, 4 requests", st, stats)
				}
			} else {
				if reason := st.Unreadable[1]; !strings.Contains(reason, tt.wantAppErr) {
					t.Errorf("app: Unreadable = %q, want %q", reason, tt.wantAppErr)
				}
				if stats.Failures != 1 || stats.Retries != 0 || stats.Requests != 3 {
					t.Errorf("app: stats %+v, want 1 failure, no retry, 3 requests", stats)
				}
				if n := reg.Reads(repo, app.Digest); n != 1 {
					t.Errorf("app's manifest read %d times after being told to wait an hour", n)
				}
			}
			// lib: read whole, with its own counters.
			if tt.verify {
				if len(lr.problems) != 0 {
					t.Errorf("lib: problems %v", lr.problems)
				}
			} else if len(lr.st.Unreadable) != 0 || lr.stats.ManifestsRead != 1 || lr.stats.Retries != 0 || lr.stats.Requests != 3 {
				t.Errorf("lib: structure %+v stats %+v, want read with 3 requests, no retry", lr.st, lr.stats)
			}
		})
	}
}
