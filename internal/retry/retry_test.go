package retry

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/clock"
)

var epoch = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// Every form a Retry-After header takes, read the one way both clients
// read it.
func TestParseAfter(t *testing.T) {
	tests := []struct {
		name string
		v    string
		want time.Duration
		ok   bool
	}{
		{"absent", "", 0, false},
		{"seconds", "30", 30 * time.Second, true},
		{"zero", "0", 0, true},
		{"leading zeros", "007", 7 * time.Second, true},
		{"surrounding space", " 30 ", 30 * time.Second, true},
		{"an hour", "3600", time.Hour, true},
		{"largest exact", "9223372036", 9223372036 * time.Second, true},
		{"huge, beyond a Duration", "9223372037", MaxWait, true},
		{"huge, beyond int64", "99999999999999999999999", MaxWait, true},
		{"HTTP date ahead", epoch.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"HTTP date past", epoch.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"HTTP date now", epoch.Format(http.TimeFormat), 0, true},
		{"RFC 850 date", "Thursday, 01-Jan-26 12:02:00 GMT", 2 * time.Minute, true},
		{"asctime date", "Thu Jan  1 12:00:30 2026", 30 * time.Second, true},
		{"HTTP date far ahead", "Fri, 31 Dec 9999 23:59:59 GMT", MaxWait, true},
		{"fraction", "1.5", 0, false},
		{"trailing garbage", "20abc", 0, false},
		{"unit", "20s", 0, false},
		{"negative", "-5", 0, false},
		{"plus sign", "+5", 0, false},
		{"space inside", "1 0", 0, false},
		{"word", "soon", 0, false},
		{"date without zone", "2026-01-01T12:01:00", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseAfter(tt.v, epoch)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseAfter(%q) = %s, %v; want %s, %v", tt.v, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		n    int
		base time.Duration
		max  time.Duration
		want time.Duration
	}{
		{1, time.Second, 30 * time.Second, time.Second},
		{2, time.Second, 30 * time.Second, 2 * time.Second},
		{5, time.Second, 30 * time.Second, 16 * time.Second},
		{6, time.Second, 30 * time.Second, 30 * time.Second},
		{40, time.Second, 30 * time.Second, 30 * time.Second},   // no overflow
		{1000, time.Second, 30 * time.Second, 30 * time.Second}, // no overflow
		{0, time.Second, 30 * time.Second, time.Second},
		{1, time.Minute, 30 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := Backoff(tt.n, tt.base, tt.max); got != tt.want {
			t.Errorf("Backoff(%d, %s, %s) = %s, want %s", tt.n, tt.base, tt.max, got, tt.want)
		}
	}
}

func TestGateCloseUntilNeverOpensEarlier(t *testing.T) {
	g := NewGate(clock.NewFake(epoch))
	if !g.CloseUntil(epoch.Add(time.Minute)) {
		t.Error("first CloseUntil: not extended")
	}
	if g.CloseUntil(epoch.Add(time.Second)) {
		t.Error("earlier CloseUntil: extended")
	}
	if g.CloseUntil(epoch.Add(time.Minute)) {
		t.Error("same CloseUntil: extended")
	}
	if got := g.Until(); !got.Equal(epoch.Add(time.Minute)) {
		t.Errorf("Until = %s, want %s", got, epoch.Add(time.Minute))
	}
}

// Many waiters on one closed gate sleep the wait once between them, and
// none passes before the gate opens.
func TestGateWaitSleepsOnce(t *testing.T) {
	clk := clock.NewFake(epoch)
	g := NewGate(clk)
	g.CloseUntil(epoch.Add(20 * time.Second))
	var wg sync.WaitGroup
	passed := make(chan time.Time, 8)
	for range 8 {
		wg.Go(func() {
			if err := g.Wait(context.Background()); err != nil {
				t.Error(err)
			}
			passed <- clk.Now()
		})
	}
	wg.Wait()
	close(passed)
	for at := range passed {
		if at.Before(epoch.Add(20 * time.Second)) {
			t.Errorf("passed at %s, before the gate opened", at)
		}
	}
	if clk.Slept() != 20*time.Second {
		t.Errorf("slept %s, want the one wait of 20s", clk.Slept())
	}
}

func TestGateWaitHonoursContext(t *testing.T) {
	g := NewGate(clock.Real{})
	g.CloseUntil(time.Now().Add(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Wait(ctx); err != context.Canceled {
		t.Errorf("Wait = %v, want context.Canceled", err)
	}
}

// FuzzParseAfter checks that no header value makes ParseAfter panic or
// return a negative wait, and that what it accepts is whole seconds or a
// date.
func FuzzParseAfter(f *testing.F) {
	for _, s := range []string{"", "0", "30", "1.5", "20abc", "-5", "99999999999999999999", epoch.Format(http.TimeFormat)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := ParseAfter(v, epoch)
		if d < 0 {
			t.Errorf("ParseAfter(%q) = %s, negative", v, d)
		}
		if !ok && d != 0 {
			t.Errorf("ParseAfter(%q) = %s with ok false", v, d)
		}
		if s := strings.TrimSpace(v); ok && strings.ContainsAny(s, ".-+") && !strings.Contains(s, " ") {
			t.Errorf("ParseAfter(%q) accepted a signed or fractional number", v)
		}
	})
}
