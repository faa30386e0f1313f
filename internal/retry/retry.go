// Package retry holds what every client of this module shares when a
// server says "wait": the gate that holds back all of a client's requests
// until the time the server named, the one parser of Retry-After, and the
// exponential backoff both clients draw their jitter under.
// The GitHub API client (ghapi) and the registry reader (containers) both
// use it, so that the two read the same header the same way.
package retry

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkgretention/retention/internal/clock"
)

// MaxWait is what ParseAfter returns for a number of seconds too large for
// a time.Duration (about 292 years): a wait no caller allows, never a
// shorter one than the server asked for.
const MaxWait = time.Duration(math.MaxInt64)

// ParseAfter reads a Retry-After value (RFC 9110, section 10.2.3) at time
// now. The semantics, the same for every client of this module:
//
//   - delay-seconds, one or more ASCII digits ("120"): that many seconds;
//     a number too large for a time.Duration is MaxWait.
//   - an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT", or the two obsolete
//     forms http.ParseTime accepts): the time left until then, 0 if it is
//     past.
//   - anything else ("1.5", "20abc", "-5", "+5", "soon", empty) is not a
//     Retry-After: ok is false and the caller does what it does when the
//     header is absent. A malformed value is never read as a shorter wait
//     (nor as "now") than the server may have meant.
//
// Surrounding white space is ignored.
func ParseAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		secs, err := strconv.ParseInt(v, 10, 64) // digits only: err is a range error
		if err != nil || secs > int64(MaxWait/time.Second) {
			return MaxWait, true
		}
		return time.Duration(secs) * time.Second, true
	}
	if when, err := http.ParseTime(v); err == nil {
		return max(when.Sub(now), 0), true
	}
	return 0, false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Backoff is the ceiling of the wait before retry n (n >= 1) after a
// fault: base doubled n-1 times, at most max (max also when the doubling
// would overflow). Each client draws its jitter under it.
func Backoff(n int, base, max time.Duration) time.Duration {
	if n >= 1 && n-1 < 32 {
		if d := base << (n - 1); d > 0 && d < max {
			return d
		}
	}
	if n < 1 {
		return min(base, max)
	}
	return max
}

// Gate holds back every request of one client after a server said to
// wait: once closed until a time, no request passes Wait before it. One
// waiter at a time sleeps on the gate; the others queue behind it and look
// at the gate again when they get their turn, so that a shared wait is
// slept once (which also keeps a fake clock exact). The zero value is not
// usable: use NewGate.
type Gate struct {
	clock   clock.Clock
	mu      sync.Mutex
	until   time.Time
	sleeper chan struct{}
}

// NewGate returns an open gate whose waits go through clk (nil: the wall
// clock).
func NewGate(clk clock.Clock) *Gate {
	if clk == nil {
		clk = clock.Real{}
	}
	return &Gate{clock: clk, sleeper: make(chan struct{}, 1)}
}

// CloseUntil closes the gate until t. It never opens the gate earlier than
// a previous call closed it; it reports whether it moved the time later.
func (g *Gate) CloseUntil(t time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !t.After(g.until) {
		return false
	}
	g.until = t
	return true
}

// Until returns the time before which the gate is closed (zero or past
// when it is open).
func (g *Gate) Until() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.until
}

// Wait returns when the gate is open, or ctx's error.
func (g *Gate) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !g.clock.Now().Before(g.Until()) {
			return nil
		}
		if err := g.Sleep(ctx); err != nil {
			return err
		}
	}
}

// Sleep sleeps once until the gate opens, one caller at a time, and
// returns early only with ctx's error. The gate may have been closed
// again meanwhile: callers that must not pass a closed gate loop, as Wait
// does.
func (g *Gate) Sleep(ctx context.Context) error {
	select {
	case g.sleeper <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-g.sleeper }()
	now := g.clock.Now()
	until := g.Until()
	if !now.Before(until) {
		return nil
	}
	return g.clock.Sleep(ctx, until.Sub(now))
}
