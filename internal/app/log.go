package app

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// textLogger is the command line's cleanup.Logger: plain lines on a
// terminal, a heading per group, warnings and errors marked.
type textLogger struct {
	mu     sync.Mutex
	w      io.Writer
	indent string
}

func newTextLogger(w io.Writer) *textLogger { return &textLogger{w: w} }

func (l *textLogger) printf(prefix, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s%s%s\n", l.indent, prefix, fmt.Sprintf(format, args...))
}

// Infof prints a line.
func (l *textLogger) Infof(format string, args ...any) { l.printf("", format, args...) }

// Warningf prints a line marked as a warning.
func (l *textLogger) Warningf(format string, args ...any) { l.printf("warning: ", format, args...) }

// Errorf prints a line marked as an error.
func (l *textLogger) Errorf(format string, args ...any) { l.printf("error: ", format, args...) }

// Group prints a heading and indents the lines up to EndGroup.
func (l *textLogger) Group(title string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s\n", title)
	l.indent = "  "
}

// EndGroup ends the indentation of Group.
func (l *textLogger) EndGroup() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.indent = ""
}

// redact returns a writer that replaces secret with *** in everything
// written through it: a second line of defence, the token is never passed
// to a print in the first place. Secrets shorter than 8 bytes (no GitHub
// token is) are left alone: scrubbing them would mangle ordinary words.
// Writes are serialised: the action logs from concurrent package reads,
// and each log line is one Write.
func redact(w io.Writer, secret string) io.Writer {
	r := &redactor{w: w}
	if len(secret) >= 8 {
		r.secret = []byte(secret)
	}
	return r
}

type redactor struct {
	mu     sync.Mutex
	w      io.Writer
	secret []byte
}

func (r *redactor) Write(p []byte) (int, error) {
	out := p
	if r.secret != nil {
		out = bytes.ReplaceAll(p, r.secret, []byte("***"))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
