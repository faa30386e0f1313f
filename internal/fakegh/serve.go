package fakegh

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Messages and documentation addresses GitHub answers with.
const (
	msgBadCredentials   = "Bad credentials"
	msgNotFound         = "Not Found"
	msgPackageNotFound  = "Package not found."
	msgVersionNotFound  = "Package version not found."
	msgNotAccessible    = "Resource not accessible by integration"
	msgDownloadRule     = "Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance."
	msgLastTagged       = "You cannot delete the last tagged version of a package. You must delete the package instead."
	msgLastVersion      = "You cannot delete the last version of a package. You must delete the package instead."
	msgPrimaryLimit     = "API rate limit exceeded for installation ID 1."
	msgSecondaryLimit   = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
	msgServerError      = "Server Error"
	msgPageLimit        = "The value of `per_page` multiplied by `page` cannot be greater than 10000."
	msgInvalidArgument  = "Invalid argument."
	msgRestoreConflict  = "Package version cannot be restored: another version now has its name or one of its tags."
	docsPackages        = "https://docs.github.com/rest/packages/packages"
	docsREST            = "https://docs.github.com/rest"
	docsPrimaryLimit    = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits"
	docsSecondaryLimit  = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
	secondaryBlockNoHdr = time.Minute
)

// reply is what a request is answered with, decided under the lock and
// written after it.
type reply struct {
	status  int
	body    any // encoded as JSON; nil for no body
	header  http.Header
	rate    *rateSnapshot
	hooks   []func()
	network bool // drop the connection
}

type rateSnapshot struct {
	limit, remaining, used int
	reset                  int64
}

type errorBody struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
	Status           string `json:"status"`
}

func errReply(status int, msg, docs string) *reply {
	return &reply{status: status, body: errorBody{Message: msg, DocumentationURL: docs, Status: strconv.Itoa(status)}}
}

// ServeHTTP answers one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.clock.Now()
	path := r.URL.EscapedPath()
	rt, params := s.match(r.Method, path)

	s.mu.Lock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	mut := mutating(r.Method)
	if mut {
		s.mutInFlight++
		s.maxMut = max(s.maxMut, s.mutInFlight)
	} else {
		s.getsInFlight++
		s.maxGets = max(s.maxGets, s.getsInFlight)
	}
	s.reqSeq++
	seq := s.reqSeq
	idx, gen := len(s.requests), s.logGen
	route := ""
	if rt != nil {
		route = rt.name
	}
	s.requests = append(s.requests, Request{Method: r.Method, Path: path, RawQuery: r.URL.RawQuery, Route: route, At: now})
	if mut && s.mutInFlight > 1 {
		s.violate(r, fmt.Sprintf("mutating request sent while %d other(s) were in flight", s.mutInFlight-1))
	}
	c := &call{s: s, r: r, now: now, route: rt, params: params, origin: origin(r)}
	icpt := s.intercepts[r.Method+" "+strings.TrimPrefix(path, s.basePath)]
	var rep *reply
	if icpt == nil {
		rep = s.decide(c)
	}
	s.mu.Unlock()

	// A request stops being in flight the moment its answer can reach the
	// client (before the connection is dropped or the header written), so
	// that a client sending its next request as soon as it reads this
	// answer is never counted as having two in flight.
	finished := false
	finish := func(status int) {
		if finished {
			return
		}
		finished = true
		s.mu.Lock()
		s.inFlight--
		if mut {
			s.mutInFlight--
		} else {
			s.getsInFlight--
		}
		if gen == s.logGen && idx < len(s.requests) {
			s.requests[idx].Status = status
		}
		s.mu.Unlock()
	}
	defer finish(0)

	if icpt != nil {
		// The test's handler answers; next is the fake's own answer.
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.r = r
			s.mu.Lock()
			rep := s.decide(c)
			s.mu.Unlock()
			s.write(w, rep, seq, finish)
		})
		icpt(&finishWriter{ResponseWriter: w, finish: finish}, r, next)
		return
	}
	s.write(w, rep, seq, finish)
}

// write writes rep, calling finish with its status the moment the answer
// can reach the client.
func (s *Server) write(w http.ResponseWriter, rep *reply, seq int64, finish func(status int)) {
	for _, h := range rep.hooks {
		h()
	}
	if rep.network {
		conn, _, err := http.NewResponseController(w).Hijack()
		finish(0)
		if err == nil {
			conn.Close()
			return
		}
		panic(http.ErrAbortHandler)
	}
	var body []byte
	if rep.body != nil {
		var err error
		if body, err = json.Marshal(rep.body); err != nil {
			rep = errReply(http.StatusInternalServerError, "fakegh: encode answer: "+err.Error(), docsREST)
			body, _ = json.Marshal(rep.body)
		}
	}
	h := w.Header()
	for k, vs := range rep.header {
		h[k] = vs
	}
	h.Set("X-GitHub-Request-Id", fmt.Sprintf("FAKE:%08X", seq))
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	if rs := rep.rate; rs != nil {
		h.Set("X-RateLimit-Limit", strconv.Itoa(rs.limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(rs.remaining))
		h.Set("X-RateLimit-Used", strconv.Itoa(rs.used))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(rs.reset, 10))
		h.Set("X-RateLimit-Resource", "core")
	}
	if body != nil {
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	finish(rep.status)
	w.WriteHeader(rep.status)
	if body != nil {
		w.Write(body)
	}
}

// finishWriter ends a request's time in flight when an intercepting
// handler starts its answer.
type finishWriter struct {
	http.ResponseWriter
	finish func(status int)
}

func (w *finishWriter) WriteHeader(status int) {
	w.finish(status)
	w.ResponseWriter.WriteHeader(status)
}

func (w *finishWriter) Write(b []byte) (int, error) {
	w.finish(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (a handler
// that hangs up).
func (w *finishWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// decide answers a request; it runs under s.mu.
func (s *Server) decide(c *call) *reply {
	r := c.r
	s.rollWindow(c.now)

	// Told to wait and did not: a violation whatever the answer.
	blocked, exhausted := c.now.Before(s.blockedUntil), c.now.Before(s.primaryWaitUntil)
	switch {
	case blocked:
		s.waitViolation(r, fmt.Sprintf("sent while a secondary rate limit said to wait until %s", stamp(s.blockedUntil)))
	case exhausted:
		s.waitViolation(r, fmt.Sprintf("sent while the exhausted primary rate limit said to wait until %s", stamp(s.primaryWaitUntil)))
	}

	if s.chance(s.faults.NetworkFailRate) {
		return &reply{network: true}
	}
	if s.token != "" && !s.authorized(r.Header.Get("Authorization")) {
		return errReply(http.StatusUnauthorized, msgBadCredentials, docsREST)
	}
	if s.chance(s.faults.FailRate) {
		return errReply(http.StatusBadGateway, msgServerError, docsREST)
	}
	if blocked {
		return s.secondaryReply(c.now)
	}
	if exhausted {
		return s.primaryReply()
	}
	if rep := s.routeFailure(c); rep != nil && rep.status >= 500 {
		return rep // the front end's answer: no budget used
	} else if rep != nil {
		if s.used < s.rate.Limit {
			s.used++
		}
		rep.rate = s.snapshot()
		return rep
	}
	if maxC := cmp0(s.secondary.MaxConcurrent, 100); s.inFlight > maxC {
		s.violate(r, fmt.Sprintf("%d requests in flight, above the secondary limit of %d", s.inFlight, maxC))
		return s.block(c.now)
	}

	// Primary budget.
	if s.used >= s.rate.Limit {
		s.primaryWaitUntil = s.resetAt
		s.grace = max(s.maxGets-1, 0)
		return s.primaryReply()
	}
	s.used++

	// Secondary limits.
	mut := mutating(r.Method)
	if mut && s.secondary.Every > 0 {
		s.mutCount++
		if s.mutCount%s.secondary.Every == 0 {
			return s.block(c.now)
		}
	}
	if ppm := s.secondary.PointsPerMinute; ppm > 0 {
		key := "unknown"
		if c.route != nil {
			key = c.route.name
		}
		cost := 1
		if mut {
			cost = 5
		}
		pw := s.points[key]
		if pw == nil || c.now.Sub(pw.start) >= time.Minute {
			pw = &pointWindow{start: c.now}
			s.points[key] = pw
		}
		if pw.points+cost > ppm {
			return s.block(c.now)
		}
		pw.points += cost
	}

	var rep *reply
	if c.route == nil {
		s.violate(r, "no such endpoint")
		rep = errReply(http.StatusNotFound, msgNotFound, docsREST)
	} else {
		rep = c.route.handle(c)
	}
	rep.rate = s.snapshot()
	return rep
}

func cmp0(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func (s *Server) authorized(h string) bool {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "bearer", "token":
		return tok == s.token
	}
	return false
}

// chance draws from the seeded generator; a zero rate draws nothing, so
// turning one fault on does not shift the draws of the others.
func (s *Server) chance(rate float64) bool {
	if rate <= 0 {
		return false
	}
	return s.rng.Float64() < rate
}

// rollWindow starts a new primary window when the current one is over.
func (s *Server) rollWindow(now time.Time) {
	switch {
	case s.resetAt.IsZero():
		s.resetAt = now.Add(s.rate.Window)
	case !now.Before(s.resetAt):
		s.used = 0
		s.resetAt = now.Add(s.rate.Window)
	}
}

func (s *Server) snapshot() *rateSnapshot {
	return &rateSnapshot{
		limit:     s.rate.Limit,
		remaining: max(s.rate.Limit-s.used, 0),
		used:      s.used,
		reset:     s.resetAt.Unix(),
	}
}

func (s *Server) primaryReply() *reply {
	rep := errReply(s.rate.Status, msgPrimaryLimit, docsPrimaryLimit)
	rep.rate = s.snapshot()
	rep.rate.remaining = 0
	return rep
}

// block starts a secondary-limit block and refuses the request.
func (s *Server) block(now time.Time) *reply {
	d := s.secondary.RetryAfter
	s.blockHeader = d > 0
	if d <= 0 {
		d = secondaryBlockNoHdr
	}
	s.blockedUntil = now.Add(d)
	s.grace = max(s.maxGets-1, 0)
	return s.secondaryReply(now)
}

func (s *Server) secondaryReply(now time.Time) *reply {
	rep := errReply(cmp0(s.secondary.Status, http.StatusForbidden), msgSecondaryLimit, docsSecondaryLimit)
	if s.blockHeader {
		secs := int64((s.blockedUntil.Sub(now) + time.Second - 1) / time.Second)
		rep.header = http.Header{"Retry-After": {strconv.FormatInt(max(secs, 1), 10)}}
	}
	rep.rate = s.snapshot()
	return rep
}

func (s *Server) violate(r *http.Request, why string) {
	s.violations = append(s.violations, fmt.Sprintf("%s %s: %s", r.Method, r.URL.RequestURI(), why))
}

// waitViolation records a request sent while told to wait, forgiving the
// GETs of a concurrent lister that could not have read the refusal yet.
func (s *Server) waitViolation(r *http.Request, why string) {
	if !mutating(r.Method) && s.grace > 0 {
		s.grace--
		return
	}
	s.violate(r, why)
}

// origin is the scheme and host the request was sent to.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
