// Package pipenet connects HTTP clients to servers over in-memory
// connections (net.Pipe) instead of loopback sockets, so that a test can
// run inside testing/synctest: a goroutine waiting on such a connection is
// durably blocked, synctest.Wait returns once client and server both wait,
// and timeouts run on the bubble's clock. It is imported by tests only.
package pipenet

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
)

// Listener is a net.Listener whose connections are the server ends of the
// pipes its Dial makes.
type Listener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// NewListener returns an open Listener.
func NewListener() *Listener {
	return &Listener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Dial connects to the listener; use it as http.Transport.DialContext.
func (l *Listener) Dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Accept waits for the next connection a Dial makes.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting and dialling.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr is a placeholder address.
func (l *Listener) Addr() net.Addr { return addr{} }

type addr struct{}

func (addr) Network() string { return "pipe" }
func (addr) String() string  { return "pipe" }

// Serve serves h over a new Listener. It returns a transport that reaches
// it (whatever the URL's host) and a function that closes both; call it
// before the synctest bubble ends.
func Serve(h http.Handler) (*http.Transport, func()) {
	l := NewListener()
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(l) }()
	tr := &http.Transport{DialContext: l.Dial}
	return tr, func() {
		tr.CloseIdleConnections()
		_ = srv.Close()
	}
}

// Silent is a peer that accepts every connection and reads the requests
// but never answers: a server that hangs.
type Silent struct {
	mu    sync.Mutex
	conns int
}

// Dial connects to the silent peer; use it as http.Transport.DialContext.
func (s *Silent) Dial(context.Context, string, string) (net.Conn, error) {
	client, server := net.Pipe()
	s.mu.Lock()
	s.conns++
	s.mu.Unlock()
	go func() {
		_, _ = io.Copy(io.Discard, server) // until the client gives up
		server.Close()
	}()
	return client, nil
}

// Conns returns how many connections were dialled.
func (s *Silent) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}
