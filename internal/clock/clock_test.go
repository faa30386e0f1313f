package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRealSleepHonoursTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// An hour's sleep on a cancelled context returns at once, with the
	// context's error.
	if err := (Real{}).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if err := (Real{}).Sleep(context.Background(), 0); err != nil {
		t.Errorf("Sleep(0) = %v, want nil", err)
	}
}

func TestFakeSleepMovesTimeWithoutWaiting(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	if err := f.Sleep(context.Background(), 90*time.Second); err != nil {
		t.Fatal(err)
	}
	f.Advance(time.Minute)
	if got, want := f.Now(), start.Add(150*time.Second); !got.Equal(want) {
		t.Errorf("Now = %s, want %s", got, want)
	}
	if got := f.Slept(); got != 90*time.Second {
		t.Errorf("Slept = %s, want 1m30s (Advance is not sleeping)", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) || !f.Now().Equal(start.Add(150*time.Second)) {
		t.Errorf("Sleep on a cancelled context = %v and moved the time to %s", err, f.Now())
	}
}

func TestWatched(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t.Run("moves and reports", func(t *testing.T) {
		w := NewWatched(start, false)
		if err := w.Sleep(context.Background(), time.Minute); err != nil {
			t.Fatal(err)
		}
		if d := <-w.Sleeps; d != time.Minute {
			t.Errorf("reported %s, want 1m", d)
		}
		if err := w.Sleep(context.Background(), time.Second); err != nil { // Sleeps full: no block
			t.Fatal(err)
		}
		if got := w.Now(); !got.Equal(start.Add(time.Minute + time.Second)) {
			t.Errorf("Now = %s, want start+1m1s", got)
		}
	})
	t.Run("holds until cancelled", func(t *testing.T) {
		w := NewWatched(start, true)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Sleep(ctx, time.Hour) }()
		if d := <-w.Sleeps; d != time.Hour {
			t.Errorf("reported %s, want 1h", d)
		}
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Sleep = %v, want context.Canceled", err)
		}
		if w.Slept() != 0 || !w.Now().Equal(start) {
			t.Errorf("a held sleep moved the clock: slept %s", w.Slept())
		}
	})
}
