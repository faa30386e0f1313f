package app

import (
	"bytes"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ name, secret, in, want string }{
		{"token scrubbed", "ghp_0123456789abcdef", "auth ghp_0123456789abcdef failed twice: ghp_0123456789abcdef", "auth *** failed twice: ***"},
		{"no token", "", "plain line", "plain line"},
		{"short secret left alone", "x", "max-deletes", "max-deletes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := redact(&buf, tc.secret).Write([]byte(tc.in))
			if err != nil || n != len(tc.in) {
				t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(tc.in))
			}
			if buf.String() != tc.want {
				t.Errorf("got %q, want %q", buf.String(), tc.want)
			}
		})
	}
}

func TestTextLoggerGroups(t *testing.T) {
	var buf bytes.Buffer
	l := newTextLogger(&buf)
	l.Infof("listing %d packages", 2)
	l.Group("npm acme/widgets")
	l.Infof("deleted %s", "1.0.0")
	l.Warningf("slow")
	l.EndGroup()
	l.Errorf("failed: %v", "boom")
	want := "listing 2 packages\nnpm acme/widgets\n  deleted 1.0.0\n  warning: slow\nerror: failed: boom\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}
