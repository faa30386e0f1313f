package ghapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/policy"
)

var ghTestPkg = Package{Owner: Owner{Login: "acme", Kind: Organization}, Type: policy.Container, Name: "app"}

const ghTestDeletePath = "/orgs/acme/packages/container/app/versions/1"

// ghSequence answers the i-th request with answers[i] (the last one
// repeats).
func ghSequence(answers ...http.HandlerFunc) http.HandlerFunc {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		answers[min(i, len(answers)-1)](w, r)
	}
}

func ghStatus(status int, msg string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		ghError(w, status, msg)
	}
}

var ghNoContent = ghStatus(http.StatusNoContent, "")

// ghHangUp closes the connection without an answer.
func ghHangUp(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	}
}

func TestRetryServerErrorsThenSuccess(t *testing.T) {
	tests := []struct {
		name     string
		failures []int
	}{
		{"502", []int{502}},
		{"500 503 504", []int{500, 503, 504}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(ghEpoch)
			s := newGHServer(t, clk)
			var answers []http.HandlerFunc
			for _, st := range tt.failures {
				answers = append(answers, ghStatus(st, http.StatusText(st)))
			}
			s.handle("DELETE", ghTestDeletePath, ghSequence(append(answers, ghNoContent)...))
			if err := ghClient(t, s, nil).DeleteVersion(context.Background(), ghTestPkg, 1); err != nil {
				t.Fatalf("DeleteVersion: %v", err)
			}
			if n := s.count(); n != len(tt.failures)+1 {
				t.Errorf("requests = %d, want %d", n, len(tt.failures)+1)
			}
			// Full jitter: retry n waits less than 2^(n-1) s.
			if max := time.Duration(1<<len(tt.failures)-1) * time.Second; clk.Slept() <= 0 || clk.Slept() >= max {
				t.Errorf("slept %s, want in (0, %s)", clk.Slept(), max)
			}
		})
	}
}

func TestServerErrorsExhaustAttempts(t *testing.T) {
	s := newGHServer(t, clock.NewFake(ghEpoch))
	s.handle("DELETE", ghTestDeletePath, ghStatus(502, "Bad Gateway"))
	g := ghClient(t, s, func(o *GitHubOptions) { o.Retry.Attempts = 3 })
	err := g.DeleteVersion(context.Background(), ghTestPkg, 1)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 502 || ae.Kind != nil {
		t.Errorf("err = %v, want an unclassified 502", err)
	}
	if n := s.count(); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
}

func TestRetryNetworkErrors(t *testing.T) {
	t.Run("DELETE", func(t *testing.T) {
		s := newGHServer(t, clock.NewFake(ghEpoch))
		s.handle("DELETE", ghTestDeletePath, ghSequence(ghHangUp(t), ghHangUp(t), ghNoContent))
		if err := ghClient(t, s, nil).DeleteVersion(context.Background(), ghTestPkg, 1); err != nil {
			t.Fatalf("DeleteVersion: %v", err)
		}
		if n := s.count(); n != 3 {
			t.Errorf("requests = %d, want 3", n)
		}
	})
	t.Run("GET", func(t *testing.T) {
		s := newGHServer(t, clock.NewFake(ghEpoch))
		s.handle("GET", "/users/acme", ghSequence(ghHangUp(t), func(w http.ResponseWriter, r *http.Request) {
			ghJSON(w, map[string]any{"login": "acme", "type": "Organization"})
		}))
		if _, err := ghClient(t, s, nil).LookupOwner(context.Background(), "acme"); err != nil {
			t.Fatalf("LookupOwner: %v", err)
		}
		if n := s.count(); n != 2 {
			t.Errorf("requests = %d, want 2", n)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		s := newGHServer(t, clock.NewFake(ghEpoch))
		s.handle("DELETE", ghTestDeletePath, ghHangUp(t))
		err := ghClient(t, s, nil).DeleteVersion(context.Background(), ghTestPkg, 1)
		if err == nil || !strings.Contains(err.Error(), "4 attempts") {
			t.Errorf("err = %v, want it to say 4 attempts", err)
		}
		if n := s.count(); n != 4 {
			t.Errorf("requests = %d, want 4", n)
		}
	})
}

func TestNoRetryOfClientErrors(t *testing.T) {
	for _, st := range []int{400, 401, 404, 409, 410, 422} {
		t.Run(strconv.Itoa(st), func(t *testing.T) {
			clk := clock.NewFake(ghEpoch)
			s := newGHServer(t, clk)
			msg := "nope"
			if st == http.StatusNotFound {
				msg = "Package version not found." // any other 404 is checked with a GET
			}
			s.handle("DELETE", ghTestDeletePath, ghStatus(st, msg))
			if err := ghClient(t, s, nil).DeleteVersion(context.Background(), ghTestPkg, 1); err == nil {
				t.Fatal("DeleteVersion succeeded")
			}
			if n := s.count(); n != 1 || clk.Slept() != 0 {
				t.Errorf("requests = %d, slept %s; want 1 request, no wait", n, clk.Slept())
			}
		})
	}
}

// ghAssertNotBefore fails the test if any request after the first arrived
// before the time the server told the client to wait until.
func ghAssertNotBefore(t *testing.T, s *ghServer, until time.Time) {
	t.Helper()
	for i, r := range s.Requests()[1:] {
		if r.At.Before(until) {
			t.Errorf("request %d (%s %s) arrived at %s, while the client was told to wait until %s", i+2, r.Method, r.Path, r.At, until)
		}
	}
}

func TestSecondaryLimitRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		wantWait   time.Duration
	}{
		{"429 seconds", 429, "7", 7 * time.Second},
		{"403 seconds", 403, "30", 30 * time.Second},
		{"429 HTTP date", 429, ghEpoch.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(ghEpoch)
			s := newGHServer(t, clk)
			s.handle("DELETE", ghTestDeletePath, ghSequence(
				ghStatus(tt.status, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "Retry-After", tt.retryAfter),
				ghNoContent))
			var notes []string
			g := ghClient(t, s, func(o *GitHubOptions) { o.Notify = func(m string) { notes = append(notes, m) } })
			if err := g.DeleteVersion(context.Background(), ghTestPkg, 1); err != nil {
				t.Fatalf("DeleteVersion: %v", err)
			}
			if clk.Slept() != tt.wantWait {
				t.Errorf("slept %s, want exactly %s", clk.Slept(), tt.wantWait)
			}
			if n := s.count(); n != 2 {
				t.Errorf("requests = %d, want 2", n)
			}
			ghAssertNotBefore(t, s, ghEpoch.Add(tt.wantWait))
			want := fmt.Sprintf("secondary rate limit: waiting %s before DELETE", tt.wantWait)
			if len(notes) != 1 || !strings.HasPrefix(notes[0], want) {
				t.Errorf("notes = %q, want one starting %q", notes, want)
			}
		})
	}
}

// The gate is shared: a request started while another waits for GitHub's
// retry-after (a secondary limit, or a 5xx) waits too, nothing reaches the
// server before the time GitHub named, and the wait is slept once.
func TestRetryAfterBlocksEveryRequest(t *testing.T) {
	for _, tt := range []struct {
		name string
		hit  http.HandlerFunc
	}{
		{"secondary limit", ghStatus(429, "You have exceeded a secondary rate limit.", "Retry-After", "30")},
		{"server error", ghStatus(503, "Service Unavailable", "Retry-After", "30")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(ghEpoch)
			s := newGHServer(t, clk)
			deleteArrived := make(chan struct{})
			s.handle("GET", "/users/acme", ghSequence(
				tt.hit,
				func(w http.ResponseWriter, r *http.Request) {
					ghJSON(w, map[string]any{"login": "acme", "type": "Organization"})
				}))
			s.handle("DELETE", ghTestDeletePath, func(w http.ResponseWriter, r *http.Request) {
				close(deleteArrived)
				w.WriteHeader(http.StatusNoContent)
			})
			atGate := make(chan struct{}, 4)
			var wg sync.WaitGroup
			var started atomic.Bool
			var g *GitHub
			g = ghClient(t, s, func(o *GitHubOptions) {
				o.Notify = func(string) {
					// The gate is closed and the GET has not slept yet: start a
					// DELETE and let it reach the gate (or, were the gate left
					// open, the server) before time moves on.
					if !started.CompareAndSwap(false, true) {
						return
					}
					wg.Go(func() {
						if err := g.DeleteVersion(context.Background(), ghTestPkg, 1); err != nil {
							t.Errorf("DeleteVersion: %v", err)
						}
					})
					select {
					case <-atGate:
					case <-deleteArrived:
					}
				}
			})
			g.transport.gateHook = func() { atGate <- struct{}{} }
			if _, err := g.LookupOwner(context.Background(), "acme"); err != nil {
				t.Fatalf("LookupOwner: %v", err)
			}
			wg.Wait()
			if !started.Load() {
				t.Fatal("the retry-after did not close the gate")
			}
			if n := s.count(); n != 3 {
				t.Errorf("requests = %d, want 3", n)
			}
			ghAssertNotBefore(t, s, ghEpoch.Add(30*time.Second))
			if clk.Slept() != 30*time.Second {
				t.Errorf("slept %s, want 30s (one shared wait)", clk.Slept())
			}
		})
	}
}

func TestSecondaryLimitWithoutRetryAfter(t *testing.T) {
	const msg = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ABCD."
	tests := []struct {
		name     string
		answers  []http.HandlerFunc
		retry    RetryOptions
		wantErr  error
		wantWait time.Duration
		wantReqs int
	}{
		{
			name:     "403 message, then success",
			answers:  []http.HandlerFunc{ghStatus(403, msg), ghStatus(403, msg), ghNoContent},
			wantWait: 60*time.Second + 120*time.Second,
			wantReqs: 3,
		},
		{
			name:     "bare 429, then success",
			answers:  []http.HandlerFunc{ghStatus(429, "Too Many Requests"), ghNoContent},
			wantWait: 60 * time.Second,
			wantReqs: 2,
		},
		{
			name:     "never lifts",
			answers:  []http.HandlerFunc{ghStatus(403, msg)},
			wantErr:  ErrSecondaryRateLimit,
			wantWait: (60 + 120 + 240 + 480) * time.Second,
			wantReqs: 5,
		},
		{
			name:     "asks for longer than MaxWait",
			answers:  []http.HandlerFunc{ghStatus(429, msg, "Retry-After", "3600")},
			retry:    RetryOptions{MaxWait: 10 * time.Minute},
			wantErr:  ErrSecondaryRateLimit,
			wantReqs: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(ghEpoch)
			s := newGHServer(t, clk)
			s.handle("DELETE", ghTestDeletePath, ghSequence(tt.answers...))
			err := ghClient(t, s, func(o *GitHubOptions) { o.Retry = tt.retry }).DeleteVersion(context.Background(), ghTestPkg, 1)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("DeleteVersion: %v", err)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), `delete version id 1 of container "app": secondary rate limit`) {
					t.Errorf("err = %q", err)
				}
			}
			if clk.Slept() != tt.wantWait {
				t.Errorf("slept %s, want %s", clk.Slept(), tt.wantWait)
			}
			if n := s.count(); n != tt.wantReqs {
				t.Errorf("requests = %d, want %d", n, tt.wantReqs)
			}
		})
	}
}

// Giving up on a secondary limit does not lift it: the next request waits
// what GitHub asked, or fails at once when that is beyond MaxWait, and
// sends nothing meanwhile.
func TestSecondaryLimitOutlivesGivingUp(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		wantErr    bool
		wantReqs   int
		wantSlept  time.Duration
	}{
		{"wait within MaxWait", "600", false, 3, 600 * time.Second},
		{"wait beyond MaxWait", "3600", true, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(ghEpoch)
			s := newGHServer(t, clk)
			s.handle("DELETE", ghTestDeletePath, ghSequence(ghStatus(429, "secondary rate limit", "Retry-After", tt.retryAfter), ghNoContent))
			s.handle("DELETE", "/orgs/acme/packages/container/app/versions/2", ghNoContent)
			g := ghClient(t, s, func(o *GitHubOptions) { o.Retry.LimitAttempts = 1 })
			if err := g.DeleteVersion(context.Background(), ghTestPkg, 1); !errors.Is(err, ErrSecondaryRateLimit) {
				t.Fatalf("first DeleteVersion: err = %v, want ErrSecondaryRateLimit", err)
			}
			err := g.DeleteVersion(context.Background(), ghTestPkg, 2)
			if tt.wantErr != errors.Is(err, ErrSecondaryRateLimit) {
				t.Errorf("second DeleteVersion: err = %v", err)
			}
			if !tt.wantErr {
				if err := g.DeleteVersion(context.Background(), ghTestPkg, 1); err != nil {
					t.Errorf("third DeleteVersion: %v", err)
				}
			}
			if n := s.count(); n != tt.wantReqs {
				t.Errorf("requests = %d, want %d", n, tt.wantReqs)
			}
			if clk.Slept() != tt.wantSlept {
				t.Errorf("slept %s, want %s", clk.Slept(), tt.wantSlept)
			}
			ra, _ := strconv.Atoi(tt.retryAfter)
			ghAssertNotBefore(t, s, ghEpoch.Add(time.Duration(ra)*time.Second))
		})
	}
}

func ghRateHeaders(limit, remaining int, reset time.Time) []string {
	return []string{
		"X-Ratelimit-Limit", strconv.Itoa(limit),
		"X-Ratelimit-Remaining", strconv.Itoa(remaining),
		"X-Ratelimit-Used", strconv.Itoa(limit - remaining),
		"X-Ratelimit-Reset", strconv.FormatInt(reset.Unix(), 10),
		"X-Ratelimit-Resource", "core",
	}
}

func TestPrimaryLimitExhausted(t *testing.T) {
	reset := ghEpoch.Add(30 * time.Minute)
	for _, status := range []int{403, 429} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			clk := clock.NewFake(ghEpoch)
			s := newGHServer(t, clk)
			s.handle("DELETE", ghTestDeletePath, ghStatus(status, "API rate limit exceeded for installation ID 1.", ghRateHeaders(1000, 0, reset)...))
			g := ghClient(t, s, nil)
			for i := range 2 {
				err := g.DeleteVersion(context.Background(), ghTestPkg, 1)
				if !errors.Is(err, ErrBudgetExhausted) {
					t.Fatalf("call %d: err = %v, want ErrBudgetExhausted", i+1, err)
				}
				var be *BudgetError
				if !errors.As(err, &be) || !be.Reset.Equal(reset) || be.Limit != 1000 {
					t.Errorf("call %d: BudgetError = %+v", i+1, be)
				}
			}
			// The second call is refused without a request: the budget is
			// known to be empty until the reset.
			if n := s.count(); n != 1 {
				t.Errorf("requests = %d, want 1", n)
			}
			if clk.Slept() != 0 {
				t.Errorf("slept %s, want no wait", clk.Slept())
			}
			if b := g.Budget(); !b.Known || b.Remaining != 0 || !b.Reset.Equal(reset) || b.Limit != 1000 {
				t.Errorf("Budget() = %+v", b)
			}
		})
	}
}

func TestPrimaryLimitWaitsWithinMaxResetWait(t *testing.T) {
	reset := ghEpoch.Add(5 * time.Minute)
	clk := clock.NewFake(ghEpoch)
	s := newGHServer(t, clk)
	s.handle("DELETE", ghTestDeletePath, ghSequence(
		ghStatus(403, "API rate limit exceeded", ghRateHeaders(5000, 0, reset)...),
		ghStatus(204, "", ghRateHeaders(5000, 4999, reset.Add(time.Hour))...)))
	var notes []string
	g := ghClient(t, s, func(o *GitHubOptions) {
		o.Retry.MaxResetWait = 10 * time.Minute
		o.Notify = func(m string) { notes = append(notes, m) }
	})
	if err := g.DeleteVersion(context.Background(), ghTestPkg, 1); err != nil {
		t.Fatalf("DeleteVersion: %v", err)
	}
	if want := 5*time.Minute + time.Second; clk.Slept() != want {
		t.Errorf("slept %s, want %s", clk.Slept(), want)
	}
	ghAssertNotBefore(t, s, reset)
	if len(notes) != 1 || !strings.HasPrefix(notes[0], "primary rate limit: waiting 5m1s") {
		t.Errorf("notes = %q", notes)
	}
	if b := g.Budget(); b.Remaining != 4999 {
		t.Errorf("Budget() = %+v, want the new window", b)
	}
}

// A successful answer that spends the last request of the budget stops
// the next request before it is sent; once the injected clock passes the
// reset, requests flow again. go-github's own pre-check, which would use
// the wall clock, does not interfere.
func TestEmptyBudgetFollowsTheInjectedClock(t *testing.T) {
	start := time.Now().Truncate(time.Second) // wall-clock now: go-github's pre-check would fire
	clk := clock.NewFake(start)
	s := newGHServer(t, clk)
	reset := start.Add(10 * time.Minute)
	s.handle("DELETE", ghTestDeletePath, ghSequence(
		ghStatus(204, "", ghRateHeaders(1000, 0, reset)...),
		ghStatus(204, "", ghRateHeaders(1000, 999, reset.Add(time.Hour))...)))
	g := ghClient(t, s, nil)
	if err := g.DeleteVersion(context.Background(), ghTestPkg, 1); err != nil {
		t.Fatalf("first DeleteVersion: %v", err)
	}
	if err := g.DeleteVersion(context.Background(), ghTestPkg, 1); !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("second DeleteVersion: err = %v, want ErrBudgetExhausted", err)
	}
	if n := s.count(); n != 1 {
		t.Fatalf("requests = %d, want 1", n)
	}
	clk.Advance(11 * time.Minute)
	if err := g.DeleteVersion(context.Background(), ghTestPkg, 1); err != nil {
		t.Fatalf("DeleteVersion after the reset: %v", err)
	}
	if n := s.count(); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
}

func TestBudgetFromHeaders(t *testing.T) {
	reset := ghEpoch.Add(time.Hour)
	type answer struct {
		headers []string
		want    Budget
	}
	answers := []answer{
		{nil, Budget{}},
		{ghRateHeaders(1000, 900, reset), Budget{Known: true, Limit: 1000, Remaining: 900, Reset: reset}},
		// A response that was overtaken (same window, more remaining).
		{ghRateHeaders(1000, 950, reset), Budget{Known: true, Limit: 1000, Remaining: 900, Reset: reset}},
		{ghRateHeaders(1000, 850, reset), Budget{Known: true, Limit: 1000, Remaining: 850, Reset: reset}},
		// Another resource's budget.
		{[]string{"X-Ratelimit-Limit", "30", "X-Ratelimit-Remaining", "1", "X-Ratelimit-Reset", strconv.FormatInt(reset.Unix()+60, 10), "X-Ratelimit-Resource", "search"}, Budget{Known: true, Limit: 1000, Remaining: 850, Reset: reset}},
		// An older window.
		{ghRateHeaders(1000, 10, reset.Add(-time.Hour)), Budget{Known: true, Limit: 1000, Remaining: 850, Reset: reset}},
		// The next window.
		{ghRateHeaders(15000, 14999, reset.Add(time.Hour)), Budget{Known: true, Limit: 15000, Remaining: 14999, Reset: reset.Add(time.Hour)}},
	}
	s := newGHServer(t, clock.NewFake(ghEpoch))
	var i atomic.Int64
	s.handle("DELETE", ghTestDeletePath, func(w http.ResponseWriter, r *http.Request) {
		ghStatus(204, "", answers[i.Load()].headers...)(w, r)
	})
	g := ghClient(t, s, nil)
	for n, a := range answers {
		i.Store(int64(n))
		if err := g.DeleteVersion(context.Background(), ghTestPkg, 1); err != nil {
			t.Fatal(err)
		}
		if got := g.Budget(); got.Known != a.want.Known || got.Limit != a.want.Limit || got.Remaining != a.want.Remaining || !got.Reset.Equal(a.want.Reset) {
			t.Errorf("after answer %d: Budget() = %+v, want %+v", n, got, a.want)
		}
	}
}

func TestContextCancelStopsWait(t *testing.T) {
	tests := []struct {
		name   string
		answer http.HandlerFunc
	}{
		{"secondary limit", ghStatus(429, "secondary rate limit", "Retry-After", "600")},
		{"backoff after 502", ghStatus(502, "Bad Gateway")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewWatched(ghEpoch, true)
			s := newGHServer(t, clk)
			s.handle("DELETE", ghTestDeletePath, tt.answer)
			g := ghClient(t, s, func(o *GitHubOptions) { o.Clock = clk })
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- g.DeleteVersion(ctx, ghTestPkg, 1) }()
			<-clk.Sleeps
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if n := s.count(); n != 1 {
				t.Errorf("requests = %d, want 1", n)
			}
		})
	}
}

// go-github's own rate-limit errors, should its pre-checks ever fire,
// are classified like the transport's.
func TestClassifyGoGitHubRateLimitErrors(t *testing.T) {
	resp := &http.Response{StatusCode: 403, Request: &http.Request{Method: "DELETE", URL: ghURL(t, "https://api.github.com/x")}, Body: io.NopCloser(strings.NewReader(""))}
	reset := ghEpoch.Add(time.Hour)
	err := classify(&github.RateLimitError{Rate: github.Rate{Limit: 1000, Reset: github.Timestamp{Time: reset}}, Response: resp, Message: "API rate limit of 1000 still exceeded"}, "DELETE")
	var be *BudgetError
	if !errors.Is(err, ErrBudgetExhausted) || !errors.As(err, &be) || !be.Reset.Equal(reset) {
		t.Errorf("RateLimitError → %v", err)
	}
	wait := time.Minute
	err = classify(&github.AbuseRateLimitError{Response: resp, Message: "secondary rate limit exceeded", RetryAfter: &wait}, "DELETE")
	if !errors.Is(err, ErrSecondaryRateLimit) {
		t.Errorf("AbuseRateLimitError → %v", err)
	}
}

// A 5xx with retry-after is the server's word for every request of the
// client: the gate closes for that long, even when the request refused
// gives up (its last attempt), and the next request waits.
func TestServerErrorRetryAfterClosesTheGate(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		attempts   int
		wantErr    bool // the first request gives up with the 5xx
	}{
		{"503 retried after retry-after", 503, "20", 0, false},
		{"502 HTTP date, retried", 502, ghEpoch.Add(20 * time.Second).Format(http.TimeFormat), 0, false},
		{"503 on the last attempt", 503, "20", 1, true},
		{"503 retry-after 0, retried at once", 503, "0", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(ghEpoch)
			s := newGHServer(t, clk)
			s.handle("DELETE", ghTestDeletePath, ghSequence(ghStatus(tt.status, http.StatusText(tt.status), "Retry-After", tt.retryAfter), ghNoContent))
			s.handle("DELETE", "/orgs/acme/packages/container/app/versions/2", ghNoContent)
			var notes []string
			g := ghClient(t, s, func(o *GitHubOptions) {
				o.Retry.Attempts = tt.attempts
				o.Notify = func(m string) { notes = append(notes, m) }
			})
			err := g.DeleteVersion(context.Background(), ghTestPkg, 1)
			var ae *APIError
			if tt.wantErr != (errors.As(err, &ae) && ae.Status == tt.status) || (!tt.wantErr && err != nil) {
				t.Fatalf("first DeleteVersion: err = %v, want a %d: %v", err, tt.status, tt.wantErr)
			}
			if err := g.DeleteVersion(context.Background(), ghTestPkg, 2); err != nil {
				t.Fatalf("second DeleteVersion: %v", err)
			}
			wantReqs := 3
			if tt.wantErr {
				wantReqs = 2
			}
			if n := s.count(); n != wantReqs {
				t.Errorf("requests = %d, want %d", n, wantReqs)
			}
			wait := 20 * time.Second
			if tt.retryAfter == "0" {
				wait = 0
			}
			ghAssertNotBefore(t, s, ghEpoch.Add(wait))
			if clk.Slept() != wait {
				t.Errorf("slept %s, want exactly the retry-after, %s", clk.Slept(), wait)
			}
			want := fmt.Sprintf("server error %d: waiting 20s (retry-after) before DELETE", tt.status)
			if wait == 0 && len(notes) != 0 {
				t.Errorf("notes = %q, want none for retry-after: 0", notes)
			}
			if wait > 0 && (len(notes) != 1 || !strings.HasPrefix(notes[0], want)) {
				t.Errorf("notes = %q, want one starting %q", notes, want)
			}
		})
	}
}

// A 5xx whose retry-after exceeds MaxWait is not retried sooner than the
// server asked: the request gives up at once with the 5xx, as after its
// last attempt, without waiting.
func TestServerErrorRetryAfterBeyondMaxWait(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		maxWait    time.Duration
	}{
		{"an hour, default MaxWait", "3600", 0},
		{"11 minutes, MaxWait 10m", "660", 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(ghEpoch)
			s := newGHServer(t, clk)
			s.handle("DELETE", ghTestDeletePath, ghSequence(ghStatus(503, "Service Unavailable", "Retry-After", tt.retryAfter), ghNoContent))
			g := ghClient(t, s, func(o *GitHubOptions) { o.Retry.MaxWait = tt.maxWait })
			err := g.DeleteVersion(context.Background(), ghTestPkg, 1)
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != 503 || ae.Kind != nil {
				t.Errorf("err = %v, want an unclassified 503", err)
			}
			if errors.Is(err, ErrSecondaryRateLimit) || errors.Is(err, ErrBudgetExhausted) {
				t.Errorf("err = %v, want a plain server error", err)
			}
			if n := s.count(); n != 1 {
				t.Errorf("requests = %d, want 1 (no retry before the server's time)", n)
			}
			if clk.Slept() != 0 {
				t.Errorf("slept %s, want no wait", clk.Slept())
			}
		})
	}
}
