package policy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func patternTexts(ps []Pattern) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func TestParsePatternsSplit(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "a,b", want: []string{"a", "b"}},
		{in: "a\nb\r\nc", want: []string{"a", "b", "c"}},
		{in: "  a , , \n\n b  ", want: []string{"a", "b"}},
		{in: "", want: []string{}},
		{in: `/v{1,2}\..*/`, want: []string{`/v{1,2}\..*/`}},
		{in: `/a,b/, c`, want: []string{`/a,b/`, "c"}},
		{in: `/a,b/ , c`, want: []string{`/a,b/`, "c"}},
		{in: `/a\/,b/`, want: []string{`/a\/,b/`}},
		{in: `/a/b/`, want: []string{`/a/b/`}},
		{in: "/x/\n/y/", want: []string{"/x/", "/y/"}},
		{in: `sha256:ab*, latest`, want: []string{"sha256:ab*", "latest"}},
		{in: `v\*`, want: []string{`v\*`}},
		{in: "/abc", wantErr: `"/abc" starts a regular expression with / but has no closing / before the next comma or line`},
		{in: "/abc/x", wantErr: `"/abc/x" starts a regular expression with / but has no closing / before the next comma or line`},
		{in: "/a\nb/", wantErr: `"/a" starts a regular expression with / but has no closing / before the next comma or line`},
		{in: "//", wantErr: `"//" is an empty regular expression`},
		{in: "!v1", wantErr: `"!v1": exclusions with ! are only for packages; to spare versions use keep-tags`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ps, err := ParsePatterns(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := patternTexts(ps); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			again, err := ParsePatterns(FormatPatterns(ps))
			if err != nil || !reflect.DeepEqual(patternTexts(again), tt.want) {
				t.Errorf("FormatPatterns does not round-trip: %q, %v", FormatPatterns(ps), err)
			}
		})
	}
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern string
		label   string
		want    bool
	}{
		{"latest", "latest", true},
		{"latest", "latest2", false},
		{"v*", "v1.2.3", true},
		{"v*", "v", true},
		{"v*", "xv1", false},
		{"*", "", true},
		{"*", "team/a/b", true},
		{"team/*", "team/a/b", true},
		{"*-rc*", "1.0-rc1", true},
		{"*-rc*", "1.0-beta", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbYcZ", false},
		{"a*b", "abab", true},
		{"pr-?", "pr-1", true},
		{"pr-?", "pr-12", false},
		{"?", "é", true},
		{"v[0-9].*", "v1.x", true},
		{"v[0-9].*", "va.x", false},
		{"[^a]x", "bx", true},
		{"[^a]x", "ax", false},
		{"[!a]x", "bx", true},
		{"[a\\-]x", "-x", true},
		{`v\*`, "v*", true},
		{`v\*`, "v1", false},
		{"/v[0-9]+/", "v12", true},
		{"/v[0-9]+/", "v12a", false},
		{"/v[0-9]+/", "xv12", false},
		{"/a|b/", "ab", false},
		{"/a|b/", "b", true},
		{"/(?i)pr-.*/", "PR-3", true},
		{"sha256:ab*", "sha256:abcd", true},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tt.pattern, err)
		}
		if got := p.Match(tt.label); got != tt.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tt.pattern, tt.label, got, tt.want)
		}
	}
	if (Pattern{}).Match("") {
		t.Errorf("zero Pattern matches")
	}
}

func TestPatternKinds(t *testing.T) {
	tests := []struct {
		pattern string
		glob    bool
		literal string
		digest  bool
		regexp  bool
	}{
		{"app", false, "app", false, false},
		{`a\*b`, false, "a*b", false, false},
		{"app-*", true, "", false, false},
		{"/app/", true, "", false, true},
		{"sha256:abc", false, "sha256:abc", true, false},
		{"sha256:abc*", true, "", true, false},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		lit, ok := p.Literal()
		if p.HasGlob() != tt.glob || lit != tt.literal || ok == tt.glob || p.IsDigest() != tt.digest || p.IsRegexp() != tt.regexp {
			t.Errorf("%q: HasGlob %v Literal %q,%v IsDigest %v IsRegexp %v", tt.pattern, p.HasGlob(), lit, ok, p.IsDigest(), p.IsRegexp())
		}
	}
	if _, err := ParsePattern("a, b"); err == nil || err.Error() != `"a, b" holds 2 patterns, not one` {
		t.Errorf("ParsePattern of two: %v", err)
	}
	if _, err := ParsePattern(" "); err == nil {
		t.Errorf("ParsePattern of nothing accepted")
	}
}

func TestPatternJSON(t *testing.T) {
	p, err := ParsePattern(`/v{1,2}\..*/`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `"/v{1,2}\\..*/"` {
		t.Errorf("JSON %s", b)
	}
	var back Pattern
	if err := json.Unmarshal(b, &back); err != nil || back.String() != p.String() || !back.Match("vv.1") {
		t.Errorf("decoded %q, %v", back.String(), err)
	}
	if err := json.Unmarshal([]byte(`"[a"`), &back); err == nil {
		t.Errorf("invalid pattern decoded")
	}
}

func TestIsAttachmentTag(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	tests := []struct {
		tag  string
		want bool
	}{
		{"sha256-" + hex + ".sig", true},
		{"sha256-" + hex + ".att", true},
		{"sha256-" + hex + ".sbom", true},
		{"sha256-" + hex, true},
		{"sha256-" + hex + ".txt", false},
		{"sha256-" + hex + "0", false},
		{"sha256-" + hex[:63] + ".sig", false},
		{"sha256-" + strings.ToUpper(hex) + ".sig", false},
		{"sha512-" + hex + ".sig", false},
		{"latest", false},
		{"", false},
	}
	for _, tt := range tests {
		d, ok := IsAttachmentTag(tt.tag)
		if ok != tt.want || ok && d != "sha256:"+hex {
			t.Errorf("IsAttachmentTag(%q) = %q, %v", tt.tag, d, ok)
		}
	}
}

func TestLabels(t *testing.T) {
	sig := "sha256-" + strings.Repeat("0", 64) + ".sig"
	v := Version{Name: "sha256:x", Tags: []string{"v1", sig, "latest"}}
	if got := Labels(Container, &v); !reflect.DeepEqual(got, []string{"v1", "latest"}) {
		t.Errorf("container labels %q", got)
	}
	if got := Labels(Container, &Version{Tags: []string{sig}}); len(got) != 0 {
		t.Errorf("a signature has labels %q", got)
	}
	if got := Labels(Npm, &Version{Name: "1.2.3"}); !reflect.DeepEqual(got, []string{"1.2.3"}) {
		t.Errorf("npm labels %q", got)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "90m", want: 90 * time.Minute},
		{in: "36h", want: 36 * time.Hour},
		{in: "30d", want: 30 * Day},
		{in: "2w", want: 2 * Week},
		{in: "1w3d", want: 10 * Day},
		{in: "3d1w", want: 10 * Day},
		{in: "1d12h30m", want: 36*time.Hour + 30*time.Minute},
		{in: " 7d\n", want: 7 * Day},
		{in: "0d", want: 0},
		{in: "007d", want: 7 * Day},
		{in: "", err: "empty duration"},
		{in: "3x", err: "unknown unit"},
		{in: "30", err: "a number has no unit"},
		{in: "d", err: "expected a number"},
		{in: "1M", err: "unknown unit"},
		{in: "1.5d", err: "unknown unit"},
		{in: "1d 2h", err: "expected a number"},
		{in: "-1d", err: "expected a number"},
		{in: "99999999999999999999m", err: "too long"},
		{in: "15300w", err: "too long"},
		{in: "15250w", want: 15250 * Week},
		{in: "15000w2000w", err: "too long"},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		switch {
		case tt.err != "":
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseDuration(%q) = %v, %v; want error %q", tt.in, got, err, tt.err)
			}
		case err != nil || got != tt.want:
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0m"},
		{90 * time.Minute, "90m"},
		{36 * time.Hour, "36h"},
		{30 * Day, "30d"},
		{14 * Day, "2w"},
		{Day + time.Minute, "1441m"},
		{90 * time.Second, "1m30s"},
		{-time.Hour, "-1h0m0s"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestRange(t *testing.T) {
	tests := []struct {
		rng   string
		label string
		want  bool
	}{
		{"<2.0.0", "1.9.9", true},
		{"<2.0.0", "2.0.0", false},
		{"<2.0.0", "v1.2.3", true},
		{"<2.0.0", "1.2", true},
		{"<2.0.0", "1.5.0-rc.1", false}, // no pre-release in the range: excluded
		{">=1.0.0-0 <2.0.0", "1.5.0-rc.1", true},
		{">=1.0.0-0 <2.0.0", "0.9.0", false},
		{"^1.2", "1.9.0", true},
		{"~1.4", "1.5.0", false},
		{"1.x || >=3", "3.1.0", true},
		{">=1, <2", "1.5.0", true},
		{">=1.0.0", "latest", false},
		{">=1.0.0", "20240101", true}, // a numeric tag reads as 20240101.0.0
		{">=1.0.0", "", false},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.rng)
		if err != nil {
			t.Fatalf("ParseRange(%q): %v", tt.rng, err)
		}
		if got := r.Match(tt.label); got != tt.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tt.rng, tt.label, got, tt.want)
		}
	}
	for _, bad := range []string{"", "one", ">>1", "1.2.3.4.5", strings.Repeat("1", 600)} {
		if _, err := ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) accepted", bad)
		}
	}
	r, _ := ParseRange(" >=1.0.0 ")
	b, _ := marshalJSON(r)
	var back Range
	if string(b) != `">=1.0.0"` || json.Unmarshal(b, &back) != nil || back.String() != ">=1.0.0" {
		t.Errorf("range JSON %s -> %q", b, back.String())
	}
	var nilRange *Range
	if nilRange.String() != "" || nilRange.check(nil) {
		t.Errorf("nil range")
	}
}
