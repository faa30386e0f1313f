package ghapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/retry"
)

// ErrSecondaryRateLimit means GitHub's secondary rate limit kept refusing
// a request after the transport waited as told the allowed number of
// times, or told it to wait longer than RetryOptions.MaxWait. Like
// ErrBudgetExhausted it means "stop sending, try again in a later run",
// not that the request was wrong.
var ErrSecondaryRateLimit = errors.New("secondary rate limit")

// BudgetError reports that the primary rate limit is spent. It wraps
// ErrBudgetExhausted. No request was sent after GitHub reported the budget
// empty.
type BudgetError struct {
	Limit int       // requests per window, 0 if unknown
	Reset time.Time // when the budget is renewed, zero if unknown
	// Message is GitHub's message when the refusal came from the server,
	// empty when the transport refused before sending.
	Message string
}

func (e *BudgetError) Error() string {
	var b strings.Builder
	b.WriteString("primary rate limit")
	if e.Limit > 0 {
		fmt.Fprintf(&b, " of %d requests", e.Limit)
	}
	b.WriteString(" exhausted")
	if !e.Reset.IsZero() {
		fmt.Fprintf(&b, " until %s", e.Reset.UTC().Format(time.RFC3339))
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrBudgetExhausted) true.
func (e *BudgetError) Unwrap() error { return ErrBudgetExhausted }

// DefaultAttemptTimeout is RetryOptions.AttemptTimeout's default.
const DefaultAttemptTimeout = 30 * time.Second

// RetryOptions tunes how the transport waits and retries. The zero value
// of every field selects its default.
type RetryOptions struct {
	// Attempts bounds the attempts of one request that meets 5xx answers
	// or network errors (default 4: the first and three retries).
	Attempts int
	// BaseDelay and MaxDelay shape the exponential backoff between those
	// attempts: before retry n the transport waits a random duration in
	// [0, min(MaxDelay, BaseDelay·2^(n-1))) ("full jitter"; defaults 1 s
	// and 30 s).
	BaseDelay, MaxDelay time.Duration
	// LimitAttempts bounds the attempts of one request that meets rate
	// limits (default 5). With the default SecondaryWait a request waits at
	// most 60+120+240+480 s = 15 min before ErrSecondaryRateLimit.
	LimitAttempts int
	// SecondaryWait is the first wait after a secondary limit answered
	// without retry-after (default 60 s, GitHub's "at least one minute");
	// it doubles on every further refusal of the same request.
	SecondaryWait time.Duration
	// MaxWait is the longest single wait the server may impose through
	// retry-after or the backoff above (default 15 min). A secondary limit
	// asking longer gives up at once with ErrSecondaryRateLimit, and so
	// does every request started before that wait is over (none is sent
	// meanwhile); a 5xx asking longer is returned at once, not retried.
	MaxWait time.Duration
	// MaxResetWait is how long a request may wait for the primary budget to
	// be renewed (x-ratelimit-reset). Default 0: an empty budget fails at
	// once with ErrBudgetExhausted, so that a run stops cleanly and leaves
	// the rest to the next scheduled run instead of idling up to an hour.
	// Set it to a negative value to never wait, the same as 0.
	MaxResetWait time.Duration
	// AttemptTimeout bounds one attempt (connect, headers and body): an
	// attempt that exceeds it is abandoned and retried like a 5xx (default
	// DefaultAttemptTimeout; negative: none). With the defaults a server
	// that accepts the connection and never answers fails a request after
	// 4 × 30 s and the backoffs between, not after 4 × 90 s of the base
	// transport's header timeout.
	//
	// The watchdog runs on the runtime's timers, not on the Clock: a fake
	// Clock's Sleep moves time forward for every caller at once, which
	// would abandon the requests in flight. Tests drive it with
	// testing/synctest.
	AttemptTimeout time.Duration
	// NoticeAfter is how long a wait may last before the transport says so
	// through transportOptions.Notify: an attempt still unanswered after
	// it, and a wait before a retry at least that long, each give one line
	// with what is waited for, how long and which attempt (default 5 s;
	// waits GitHub imposes, retry-after and resets, are always told).
	NoticeAfter time.Duration
}

func (o RetryOptions) withDefaults() RetryOptions {
	if o.Attempts <= 0 {
		o.Attempts = 4
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = time.Second
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 30 * time.Second
	}
	if o.LimitAttempts <= 0 {
		o.LimitAttempts = 5
	}
	if o.SecondaryWait <= 0 {
		o.SecondaryWait = time.Minute
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 15 * time.Minute
	}
	if o.MaxResetWait < 0 {
		o.MaxResetWait = 0
	}
	if o.AttemptTimeout == 0 {
		o.AttemptTimeout = DefaultAttemptTimeout
	}
	if o.NoticeAfter <= 0 {
		o.NoticeAfter = 5 * time.Second
	}
	return o
}

// transportOptions configures newTransport.
type transportOptions struct {
	// Base sends the requests (default: a tuned clone of
	// http.DefaultTransport, see defaultBaseTransport).
	Base http.RoundTripper
	// Clock is used for every wait (default the wall clock).
	Clock clock.Clock
	// Retry tunes retries and waits.
	Retry RetryOptions
	// Notify, if set, receives one line whenever the transport starts
	// waiting because GitHub told it to (secondary limit, budget reset),
	// and whenever a wait of its own lasts NoticeAfter or more (an answer
	// that takes long, a retry after a fault).
	Notify func(msg string)
	// Rand is the source of backoff jitter (default math/rand/v2's global
	// source). Tests pass a seeded source for deterministic waits.
	Rand rand.Source
}

// Transport is an http.RoundTripper that makes requests to GitHub's REST
// API survive its limits and faults. It is installed under the oauth2
// transport and shared by every request of a client:
//
//   - A gate: once GitHub has said "wait" (retry-after, a secondary limit, a
//     budget reset being waited for), no request of the client goes out
//     before that time; every request waits on the gate through the clock
//     and its context.
//   - Secondary limits (403/429 with retry-after or a "secondary rate
//     limit" message, and any 429): wait as told, else 60 s doubling, at
//     most LimitAttempts times, then ErrSecondaryRateLimit.
//   - Primary limit (403/429 with x-ratelimit-remaining: 0): wait for the
//     reset if it is within MaxResetWait, else fail with a *BudgetError
//     without retrying. Once a response reported the budget empty, later
//     requests fail the same way before being sent.
//   - 500, 502, 503, 504 and network errors: up to Attempts attempts with
//     exponential backoff and full jitter. A 5xx with retry-after closes the
//     gate for that long instead (no request of the client goes out before
//     it), or, when retry-after exceeds MaxWait, is returned at once
//     without a retry. Other 4xx are returned as they are.
//
// The budget reported by every response's x-ratelimit-* headers is kept
// (Budget). The transport is the only rate-limit authority: it removes
// x-ratelimit-reset from responses that report an empty budget before
// handing them up, so that go-github's own pre-check
// (checkRateLimitBeforeDo, which compares against the wall clock and would
// bypass the injected clock and MaxResetWait) never refuses a request on
// its own.
type Transport struct {
	base   http.RoundTripper
	clock  clock.Clock
	retry  RetryOptions
	notify func(string)

	randMu sync.Mutex
	rand   *rand.Rand // nil: global source

	// gate holds every request of the client once GitHub said to wait.
	gate *retry.Gate

	mu     sync.Mutex
	budget Budget
	// inFlight counts requests sent and not yet answered: each will spend
	// one unit of the budget, so a request goes out only while the budget
	// covers it and every other request in flight.
	inFlight int

	// gateHook, if set (tests), runs when a request finds the gate closed.
	gateHook func()
}

// defaultBaseTransport returns a clone of http.DefaultTransport tuned for
// one API host: enough idle connections per host for maxConns pages in
// flight, and a response-header timeout.
func defaultBaseTransport(maxConns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if maxConns < 2 {
		maxConns = 2
	}
	t.MaxIdleConnsPerHost = maxConns + 2
	t.MaxIdleConns = 2 * (maxConns + 2)
	t.ResponseHeaderTimeout = 90 * time.Second
	t.ForceAttemptHTTP2 = true
	return t
}

// newTransport returns a Transport.
func newTransport(opts transportOptions) *Transport {
	t := &Transport{
		base:   opts.Base,
		clock:  opts.Clock,
		retry:  opts.Retry.withDefaults(),
		notify: opts.Notify,
	}
	if t.base == nil {
		t.base = defaultBaseTransport(8)
	}
	if t.clock == nil {
		t.clock = clock.Real{}
	}
	t.gate = retry.NewGate(t.clock)
	if opts.Rand != nil {
		t.rand = rand.New(opts.Rand)
	}
	return t
}

// Budget returns the primary (core) rate-limit budget as the responses
// reported it. Responses of an older window than the one already seen are
// ignored; within a window the lowest remaining count wins, so concurrent
// responses arriving out of order never make the budget look larger. It
// is not aged: once the clock passes Reset, GitHub has renewed the budget
// (Remaining is then stale until the next response).
func (t *Transport) Budget() Budget {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.budget
}

// RoundTrip sends req, waiting and retrying as the type comment says: it
// waits for its turn, sends, and lets judge decide what each answer means.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	var n tries
	for attempt := 0; ; attempt++ {
		if err := t.waitTurn(ctx, req); err != nil {
			closeBody(req)
			return nil, err
		}
		r := req
		if attempt > 0 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("replay request body: %w", err)
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		resp, err := t.send(r, n.faults+1)
		if err == nil {
			t.record(resp.Header)
		}
		t.release()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			n.faults++
			if !replayable || n.faults >= t.retry.Attempts {
				return nil, fmt.Errorf("giving up after %d attempts: %w", n.faults, err)
			}
			wait := t.backoff(n.faults)
			if errors.Is(err, errNoAnswer) || wait >= t.retry.NoticeAfter {
				t.tell(fmt.Sprintf("%s %s: %v (attempt %d of %d); retrying in %s", req.Method, req.URL.Path, err, n.faults, t.retry.Attempts, roundWait(wait)))
			}
			if err := t.clock.Sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		v := t.judge(req, resp, replayable, &n)
		switch v.action {
		case passUp:
			hideEmptyBudgetReset(resp.Header)
			return resp, nil
		case giveUp:
			drain(resp)
			return nil, v.err
		}
		drain(resp)
		if v.backoff {
			wait := t.backoff(n.faults)
			if wait >= t.retry.NoticeAfter {
				t.tell(fmt.Sprintf("%s %s: server error %d (attempt %d of %d); retrying in %s", req.Method, req.URL.Path, resp.StatusCode, n.faults, t.retry.Attempts, roundWait(wait)))
			}
			if err := t.clock.Sleep(ctx, wait); err != nil {
				return nil, err
			}
		}
		// Otherwise waitTurn waits on the gate judge closed.
	}
}

// tries counts what one request met: faults (5xx, network errors) and
// rate limits.
type tries struct{ faults, limits int }

// action is what RoundTrip does with an answer.
type action int

const (
	passUp    action = iota // hand the response up as it is
	sendAgain               // send the request again
	giveUp                  // return verdict.err
)

// verdict is judge's decision on one answer.
type verdict struct {
	action action
	err    error // giveUp
	// backoff: wait an exponential backoff before sending again; without
	// it the request waits on the gate (a retry-after or a limit).
	backoff bool
}

// judge decides what an answer means: a rate limit (wait on the gate,
// retry or fail with a *BudgetError or ErrSecondaryRateLimit), a server
// error (retry after the backoff or the server's retry-after, or pass it
// up once attempts are spent), or anything else (pass). It closes the gate
// when GitHub said to wait and counts the request's tries in n.
func (t *Transport) judge(req *http.Request, resp *http.Response, replayable bool, n *tries) verdict {
	switch resp.StatusCode {
	case http.StatusForbidden, http.StatusTooManyRequests:
		body := peekBody(resp)
		lim := t.classifyLimit(resp, body, n.limits)
		if lim.kind == notLimited {
			return verdict{action: passUp}
		}
		n.limits++
		now := t.clock.Now()
		if lim.kind == primaryLimit {
			if lim.reset.IsZero() || lim.reset.Sub(now) > t.resetWait(req.Context()) || n.limits >= t.retry.LimitAttempts {
				return verdict{action: giveUp, err: &BudgetError{Limit: atoi(resp.Header.Get("X-Ratelimit-Limit")), Reset: lim.reset, Message: githubMessage(body)}}
			}
			t.block(lim.reset.Add(time.Second), fmt.Sprintf("primary rate limit: waiting %s for the budget reset before %s %s", lim.reset.Add(time.Second).Sub(now).Round(time.Second), req.Method, req.URL.Path))
			return verdict{action: sendAgain}
		}
		if n.limits >= t.retry.LimitAttempts || lim.wait > t.retry.MaxWait || !replayable {
			// Giving up on this request does not lift the limit: later
			// requests still wait (or fail at once beyond MaxWait).
			t.block(now.Add(lim.wait), fmt.Sprintf("secondary rate limit: giving up on %s %s after %d refusals; no request before %s", req.Method, req.URL.Path, n.limits, lim.wait.Round(time.Second)))
			return verdict{action: giveUp, err: fmt.Errorf("%w: %s %s refused %d times (%d %s), last asked to wait %s", ErrSecondaryRateLimit, req.Method, req.URL.Path, n.limits, resp.StatusCode, githubMessage(body), lim.wait)}
		}
		t.block(now.Add(lim.wait), fmt.Sprintf("secondary rate limit: waiting %s before %s %s", lim.wait.Round(time.Second), req.Method, req.URL.Path))
		return verdict{action: sendAgain}
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		n.faults++
		now := t.clock.Now()
		ra, hasRA := retryAfter(resp.Header, now)
		if hasRA && ra > t.retry.MaxWait {
			// Retrying sooner than the server asked would hammer it,
			// waiting that long is not allowed: this answer is final.
			return verdict{action: passUp}
		}
		if hasRA && ra > 0 {
			// The server's word holds for every request, this one's last
			// attempt included: none goes out before that time.
			t.block(now.Add(ra), fmt.Sprintf("server error %d: waiting %s (retry-after) before %s %s", resp.StatusCode, ra.Round(time.Second), req.Method, req.URL.Path))
		}
		if !replayable || n.faults >= t.retry.Attempts {
			return verdict{action: passUp}
		}
		return verdict{action: sendAgain, backoff: !hasRA}
	}
	return verdict{action: passUp}
}

// errNoAnswer is an attempt abandoned by the watchdog.
var errNoAnswer = errors.New("no answer")

// send makes one attempt (number attempt, from 1) under the attempt
// watchdog, and says so when the answer takes longer than NoticeAfter.
func (t *Transport) send(req *http.Request, attempt int) (*http.Response, error) {
	o := t.retry
	if o.NoticeAfter < o.AttemptTimeout || o.AttemptTimeout < 0 {
		limit := ""
		if o.AttemptTimeout > 0 {
			limit = fmt.Sprintf("; giving this attempt up to %s", roundWait(o.AttemptTimeout))
		}
		notice := time.AfterFunc(o.NoticeAfter, func() {
			t.tell(fmt.Sprintf("%s %s: no answer yet after %s (attempt %d of %d%s)", req.Method, req.URL.Path, roundWait(o.NoticeAfter), attempt, o.Attempts, limit))
		})
		defer notice.Stop() // headers came, or the attempt failed
	}
	if o.AttemptTimeout < 0 {
		return t.base.RoundTrip(req)
	}
	ctx, cancel := context.WithTimeout(req.Context(), o.AttemptTimeout)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		if ctx.Err() == context.DeadlineExceeded && req.Context().Err() == nil {
			return nil, fmt.Errorf("%w within %s", errNoAnswer, roundWait(o.AttemptTimeout))
		}
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// tell passes a line to Notify, if set.
func (t *Transport) tell(msg string) {
	if t.notify != nil {
		t.notify(msg)
	}
}

// roundWait rounds a wait for the log: to the 0.1 s below 10 s, else to
// the second.
func roundWait(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// waitTurn returns when req may be sent: the gate is open and the budget
// is not known to be empty. It fails with a *BudgetError when the budget
// is empty beyond MaxResetWait, or with ctx's error.
func (t *Transport) waitTurn(ctx context.Context, req *http.Request) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := t.clock.Now()
		if until := t.gate.Until(); now.Before(until) {
			if d := until.Sub(now); d > max(t.retry.MaxWait, t.resetWait(ctx)+time.Second) {
				return fmt.Errorf("%w: GitHub asked to wait %s (until %s), longer than allowed", ErrSecondaryRateLimit, d.Round(time.Second), until.UTC().Format(time.RFC3339))
			}
			if t.gateHook != nil {
				t.gateHook()
			}
			if err := t.gate.Sleep(ctx); err != nil {
				return err
			}
			continue
		}
		t.mu.Lock()
		b, inFlight := t.budget, t.inFlight
		if b.Known && b.Remaining-inFlight <= 0 && now.Before(b.Reset) {
			t.mu.Unlock()
			if b.Remaining > 0 {
				// The requests in flight spend what is left; their
				// answers tell whether the window was renewed.
				if err := t.clock.Sleep(ctx, 10*time.Millisecond); err != nil {
					return err
				}
				continue
			}
			if b.Reset.Sub(now) > t.resetWait(ctx) {
				return &BudgetError{Limit: b.Limit, Reset: b.Reset}
			}
			t.block(b.Reset.Add(time.Second), fmt.Sprintf("primary rate limit: waiting %s for the budget reset before %s %s", b.Reset.Add(time.Second).Sub(now).Round(time.Second), req.Method, req.URL.Path))
			continue
		}
		t.inFlight++
		t.mu.Unlock()
		return nil
	}
}

// release ends a request's claim on the budget (after its answer, if any,
// was recorded).
func (t *Transport) release() {
	t.mu.Lock()
	t.inFlight--
	t.mu.Unlock()
}

type resetWaitKey struct{}

// WithResetWait returns a context whose requests may wait up to d for the
// primary budget's reset, whatever RetryOptions.MaxResetWait says. A run
// lists with it: a listing must be complete before anything is deleted, so
// a backlog larger than one hour's budget is listed across the reset
// rather than never.
func WithResetWait(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, resetWaitKey{}, d)
}

// resetWait is how long a request of ctx may wait for the budget's reset.
func (t *Transport) resetWait(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(resetWaitKey{}).(time.Duration); ok {
		return d
	}
	return t.retry.MaxResetWait
}

// block closes the gate until the given time (it never moves it earlier)
// and notifies once per extension.
func (t *Transport) block(until time.Time, msg string) {
	if t.gate.CloseUntil(until) {
		t.tell(msg)
	}
}

// record updates the budget from a response's x-ratelimit-* headers.
func (t *Transport) record(h http.Header) {
	if res := h.Get("X-Ratelimit-Resource"); res != "" && res != "core" {
		return
	}
	remaining, err1 := strconv.Atoi(h.Get("X-Ratelimit-Remaining"))
	resetSec, err2 := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil {
		return
	}
	limit := atoi(h.Get("X-Ratelimit-Limit"))
	reset := time.Unix(resetSec, 0).UTC()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := &t.budget
	switch {
	case !b.Known || reset.After(b.Reset):
		*b = Budget{Known: true, Limit: limit, Remaining: remaining, Reset: reset}
	case reset.Equal(b.Reset):
		b.Remaining = min(b.Remaining, remaining)
		if limit > 0 {
			b.Limit = limit
		}
	}
}

type limitKind int

const (
	notLimited limitKind = iota
	primaryLimit
	secondaryLimit
)

type limit struct {
	kind  limitKind
	wait  time.Duration // secondary
	reset time.Time     // primary
}

// classifyLimit decides whether a 403 or 429 is a rate limit. GitHub's
// rules: an empty budget (x-ratelimit-remaining: 0) means wait for
// x-ratelimit-reset, unless the message names the secondary limit and
// retry-after is given; retry-after means wait that long; a secondary
// limit without it means wait at least a minute. A 429 is always a limit.
// prior is how many limits this request met before.
func (t *Transport) classifyLimit(resp *http.Response, body []byte, prior int) limit {
	h := resp.Header
	secondaryMsg := bytesContainsFold(body, "secondary rate limit") || bytesContainsFold(body, "abuse detection")
	ra, hasRA := retryAfter(h, t.clock.Now())
	if h.Get("X-Ratelimit-Remaining") == "0" && (!secondaryMsg || !hasRA) {
		var reset time.Time
		if s, err := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			reset = time.Unix(s, 0).UTC()
		}
		return limit{kind: primaryLimit, reset: reset}
	}
	if hasRA {
		return limit{kind: secondaryLimit, wait: ra}
	}
	if secondaryMsg || resp.StatusCode == http.StatusTooManyRequests {
		wait := t.retry.SecondaryWait << min(prior, 20)
		if wait <= 0 || wait > 24*time.Hour {
			wait = 24 * time.Hour
		}
		return limit{kind: secondaryLimit, wait: wait}
	}
	return limit{kind: notLimited}
}

// backoff returns the wait before retry n (n >= 1) after a fault.
func (t *Transport) backoff(n int) time.Duration {
	ceil := retry.Backoff(n, t.retry.BaseDelay, t.retry.MaxDelay)
	var f float64
	if t.rand != nil {
		t.randMu.Lock()
		f = t.rand.Float64()
		t.randMu.Unlock()
	} else {
		f = rand.Float64()
	}
	return time.Duration(f * float64(ceil))
}

// retryAfter reads the response's retry-after (see retry.ParseAfter).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	return retry.ParseAfter(h.Get("Retry-After"), now)
}

// hideEmptyBudgetReset removes x-ratelimit-reset from a response that
// reports an empty budget, so that go-github's wall-clock pre-check never
// fires; the transport already recorded it (see Transport).
func hideEmptyBudgetReset(h http.Header) {
	if h.Get("X-Ratelimit-Remaining") == "0" {
		h.Del("X-Ratelimit-Reset")
	}
}

const peekLimit = 64 << 10

// peekBody reads the start of an error body and puts it back.
func peekBody(resp *http.Response) []byte {
	if resp.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, peekLimit))
	rest := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), rest), rest}
	return b
}

// drain reads a little of a body that will not be used and closes it, so
// that the connection can be reused.
func drain(resp *http.Response) {
	if resp.Body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, peekLimit))
	_ = resp.Body.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// githubMessage extracts "message" from a GitHub error body, or returns
// the start of the body.
func githubMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return e.Message
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func bytesContainsFold(b []byte, sub string) bool {
	return bytes.Contains(bytes.ToLower(b), []byte(sub))
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
