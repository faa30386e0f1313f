package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name, want, got, diff string
	}{
		{"same", "a\nb\n", "a\nb\n", ""},
		{"changed line", "a\nb\n", "a\nc\n", "line 2:\n  want: b\n  got:  c\n"},
		{"extra line", "a\n", "a\nb", "line 2:\n  want: \n  got:  b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := Diff(tt.want, tt.got); d != tt.diff {
				t.Errorf("Diff = %q, want %q", d, tt.diff)
			}
		})
	}
	many := strings.Repeat("x\n", 20)
	if n := strings.Count(Diff(many, strings.Repeat("y\n", 20)), "line "); n != 10 {
		t.Errorf("Diff lists %d lines, want the first 10", n)
	}
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.golden")
	if err := os.WriteFile(path, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		got      string
		wantFail bool
	}{{"a\n", false}, {"b\n", true}} {
		r := &recorder{TB: t}
		Check(r, path, []byte(tt.got))
		if r.failed != tt.wantFail {
			t.Errorf("Check(%q): failed = %v, want %v", tt.got, r.failed, tt.wantFail)
		}
	}
}
