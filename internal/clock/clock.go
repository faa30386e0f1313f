// Package clock puts time behind a small interface so that waits and
// age rules can be tested without waiting.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever comes first, and
	// returns ctx.Err() in the latter case.
	Sleep(ctx context.Context, d time.Duration) error
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Sleep waits on a timer, honouring ctx.
func (Real) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Fake is a clock for tests: Sleep returns at once and moves the time
// forward by d, so code that waits runs instantly while every observer of
// the clock sees the time it waited. It is safe for concurrent use.
type Fake struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
}

// NewFake returns a Fake clock set to start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Sleep advances the fake time by d without waiting.
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d > 0 {
		f.Advance(d)
		f.mu.Lock()
		f.slept += d
		f.mu.Unlock()
	}
	return nil
}

// Advance moves the fake time forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// Slept returns the total time callers have slept on this clock.
func (f *Fake) Slept() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.slept
}

// Watched is a Fake whose waits a test can follow: every Sleep of d > 0
// is reported on Sleeps. With Hold false, Sleep moves the time as Fake's
// does and then reports d if Sleeps has room (it never blocks). With Hold
// true, Sleep reports d (waiting for the test to receive it) and then holds
// until its context ends, so that a test can cancel a request while it
// waits.
type Watched struct {
	*Fake
	Sleeps chan time.Duration
	Hold   bool
}

// NewWatched returns a Watched clock set to start, with room for one
// report on Sleeps.
func NewWatched(start time.Time, hold bool) *Watched {
	return &Watched{Fake: NewFake(start), Sleeps: make(chan time.Duration, 1), Hold: hold}
}

// Sleep waits as the type comment says.
func (w *Watched) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return w.Fake.Sleep(ctx, d)
	}
	if w.Hold {
		select {
		case w.Sleeps <- d:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-ctx.Done()
		return ctx.Err()
	}
	err := w.Fake.Sleep(ctx, d)
	select {
	case w.Sleeps <- d:
	default:
	}
	return err
}
