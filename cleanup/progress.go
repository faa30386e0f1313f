package cleanup

import (
	"sync"
	"time"

	"github.com/pkgretention/retention/internal/clock"
)

// progress writes a line on long runs: versions listed, deleted, remaining
// and the time left, at most once per interval, so a long run shows life
// without flooding the log. It is driven by events (a package listed, a
// version deleted) and by the executor's waits, not by a timer of its own.
type progress struct {
	mu       sync.Mutex
	clk      clock.Clock
	log      Logger
	every    time.Duration
	lastLine time.Time
	nListed  int
	nPlanned int
	nDone    int
	interval time.Duration
}

func newProgress(clk clock.Clock, log Logger, every time.Duration) *progress {
	return &progress{clk: clk, log: log, every: every, lastLine: clk.Now()}
}

func (p *progress) listed(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nListed += n
	p.maybeLine()
}

// paceNotice is the interval between mutating requests from which the
// run says, once, that it waits that long between them: a slow pace must
// not look like a hung job.
const paceNotice = 5 * time.Second

func (p *progress) planned(n int, interval time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nPlanned, p.interval = n, interval
	if n > 1 && interval >= paceNotice {
		p.log.Infof("pacing: %d requests to send, one every %s (max-deletes-per-minute), about %s in all",
			n, interval.Round(time.Second), (time.Duration(n-1) * interval).Round(time.Second))
	}
}

func (p *progress) deleted() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nDone++
	p.maybeLine()
}

func (p *progress) maybeLine() {
	now := p.clk.Now()
	if now.Sub(p.lastLine) < p.every {
		return
	}
	p.lastLine = now
	if p.nPlanned == 0 {
		p.log.Infof("progress: %d versions listed", p.nListed)
		return
	}
	left := p.nPlanned - p.nDone
	eta := time.Duration(left) * p.interval
	p.log.Infof("progress: %d versions listed, %d of %d deletions done, %d remaining, about %s left",
		p.nListed, p.nDone, p.nPlanned, left, eta.Round(time.Second))
}
