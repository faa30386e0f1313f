package policy

import (
	"encoding/json"
	"path"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90m", "36h", "30d", "2w", "1w3d", "3d1w", "0m", " 7d ", "3x", "", "1M",
		"9223372036854775807m", "15250w", "1d1d1d", "00001m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
		text := FormatDuration(d)
		back, err := ParseDuration(text)
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v; FormatDuration = %q reads back as %v, %v", s, d, text, back, err)
		}
	})
}

func FuzzPattern(f *testing.F) {
	seeds := [][2]string{
		{"v*", "v1.2"}, {"pr-?", "pr-1"}, {"[a-c]x", "bx"}, {"[^a]", "b"}, {"[!a]", "b"}, {`\*`, "*"},
		{`/v{1,2}\..*/`, "vv.1"}, {"/a,b/, c", "c"}, {`/a\/,b/`, "a/,b"}, {"sha256:ab*", "sha256:abc"},
		{"a,b\nc", "b"}, {"[", "x"}, {"/(/", "x"}, {"*a*b*", "xaxbx"}, {"[a-]", "a"}, {"!x", "x"},
		{"team/*", "team/a/b"}, {"é?", "éé"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, text, label string) {
		ps, err := ParsePatterns(text)
		if err != nil {
			return
		}
		// What is accepted round-trips through FormatPatterns.
		formatted := FormatPatterns(ps)
		back, err := ParsePatterns(formatted)
		if err != nil {
			t.Fatalf("ParsePatterns(%q) ok, but its format %q fails: %v", text, formatted, err)
		}
		if len(back) != len(ps) {
			t.Fatalf("ParsePatterns(%q): %d patterns, %q reads back as %d", text, len(ps), formatted, len(back))
		}
		for i, p := range ps {
			if back[i].String() != p.String() || back[i].Match(label) != p.Match(label) {
				t.Fatalf("pattern %q changes through %q", p, formatted)
			}
			one, err := ParsePattern(p.String())
			if err != nil || one.String() != p.String() || one.Match(label) != p.Match(label) {
				t.Fatalf("ParsePattern(%q) = %q, %v", p, one, err)
			}
			// A glob agrees with path.Match where their syntaxes agree.
			s := p.String()
			if !p.IsRegexp() && !strings.Contains(s, "/") && !strings.Contains(s, "[!") &&
				!strings.Contains(label, "/") && utf8.ValidString(s) && utf8.ValidString(label) {
				want, err := path.Match(s, label)
				if err == nil && want != p.Match(label) {
					t.Fatalf("%q.Match(%q) = %v, path.Match says %v", s, label, p.Match(label), want)
				}
			}
		}
	})
}

func FuzzRange(f *testing.F) {
	for _, s := range [][2]string{
		{"<2.0.0", "1.5.0"}, {">=1.0.0-0 <1.5.0", "1.2.0-rc.1"}, {"^1.2", "v1.3"}, {"~1.4", "1.4.9"},
		{"1.x || >=3", "3.0.0"}, {">=1, <2", "1.0"}, {"1.2 - 1.4", "1.3.0"}, {"!=1.0.0", "1.0.0"},
		{">>1", "1"}, {"", ""}, {"*", "0.0.1-alpha"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, text, label string) {
		r, err := ParseRange(text)
		if err != nil {
			return
		}
		got := r.Match(label)
		back, err := ParseRange(r.String())
		if err != nil || back.String() != r.String() || back.Match(label) != got {
			t.Fatalf("ParseRange(%q) = %q does not round-trip: %v", text, r, err)
		}
		b, err := marshalJSON(r)
		if err != nil {
			t.Fatal(err)
		}
		var dec Range
		if err := json.Unmarshal(b, &dec); err != nil || dec.String() != r.String() || dec.Match(label) != got {
			t.Fatalf("range %q through JSON %s: %q, %v", r, b, dec.String(), err)
		}
	})
}

func FuzzPolicyFile(f *testing.F) {
	for _, s := range []string{
		"rules:\n  - packages: app\n    tag-state: untagged\n    older-than: 7d\n",
		"rules:\n  - packages: [app, 'x-*', '!x-old']\n    keep-latest: 10\n    keep-tags: [latest, '/v{1,2}\\..*/']\n",
		"rules:\n  - packages: lib\n    package-type: npm\n    delete-semver: <1.0.0\n    keep-semver: '>=0.5.0-0'\n    owner: '@me'\n",
		"rules:\n  - &r\n    packages: a\n  - *r\n",
		"rules:\n  - packages: a\n    age-basis: created\n    older-than: 1w3d\n    delete-tags: 'sha256:ab*, pr-?'\n",
		"rules: []\n", "", "dry-run: true\n", "rules:\n  - packages: a\n    bogus: 1\n",
		`{"rules":[{"packages":["a"],"owner":"o","keep-latest":3}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := Inputs{Values: map[string]string{"policy-file": "retention.yml"}, PolicyFile: data, DefaultOwner: "acme"}
		p, err := Parse(in)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if len(p.Rules) == 0 {
			t.Fatal("a policy without rules was accepted")
		}
		// The rules, encoded as JSON (which is YAML), read back as the same
		// policy file.
		rules, err := marshalJSON(struct {
			Rules []Rule `json:"rules"`
		}{p.Rules})
		if err != nil {
			t.Fatal(err)
		}
		in.PolicyFile = rules
		again, err := Parse(in)
		if err != nil {
			t.Fatalf("policy %s does not parse back: %v", rules, err)
		}
		a, _ := marshalJSON(p)
		b, _ := marshalJSON(again)
		if string(a) != string(b) {
			t.Fatalf("policy changes through a file:\n%s\n%s", a, b)
		}
		// And through the plan file's JSON decoding.
		var dec Policy
		if err := json.Unmarshal(a, &dec); err != nil {
			t.Fatalf("policy %s does not decode: %v", a, err)
		}
		if c, _ := marshalJSON(&dec); string(c) != string(a) {
			t.Fatalf("policy changes through JSON:\n%s\n%s", a, c)
		}
	})
}
