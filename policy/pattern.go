package policy

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Pattern is one label pattern as the user wrote it:
//
//   - a glob matched against the whole label: '*' matches any run of
//     characters ('/' included, so a package glob such as "team/*" matches
//     "team/a/b"), '?' one character, "[...]" one character of a class
//     ("[a-z]", negated with "[^...]" or "[!...]"), and '\' makes the next
//     character literal; inside a class '-' and ']' must be escaped to be
//     literal;
//   - a regular expression written between slashes, "/v[0-9]+/", in RE2
//     syntax and anchored at both ends (matched as ^(?:...)$);
//   - a glob starting with "sha256:", which matches a container version's
//     digest (its name) instead of its tags.
//
// The zero Pattern matches nothing. String returns the text as written and
// the JSON encoding is that text.
type Pattern struct {
	text   string
	digest bool
	re     *regexp.Regexp
	glob   []globToken
	// literal is set when the glob has no wildcard: matching is string
	// equality with lit.
	literal bool
	lit     string
}

type globKind uint8

const (
	globLit globKind = iota
	globAny
	globStar
	globClass
)

type globToken struct {
	kind   globKind
	lit    string
	neg    bool
	ranges []rune // pairs lo, hi
}

// ParsePattern parses exactly one pattern (see Pattern). Surrounding blanks
// are trimmed. A text that ParsePatterns would read as several patterns, or
// as none, is an error.
func ParsePattern(s string) (Pattern, error) {
	pieces, err := splitPatterns(s)
	if err != nil {
		return Pattern{}, err
	}
	switch len(pieces) {
	case 0:
		return Pattern{}, errors.New("empty pattern")
	case 1:
		return compilePattern(pieces[0])
	default:
		return Pattern{}, fmt.Errorf("%q holds %d patterns, not one", strings.TrimSpace(s), len(pieces))
	}
}

// ParsePatterns parses a list of patterns separated by commas or newlines,
// except that a comma inside a /.../ regular expression belongs to it
// (/v{1,2}\..*/ is one pattern). A regular expression ends at the first '/'
// that is not escaped by '\' and is followed, after optional blanks, by a
// comma, a newline or the end of the text; write '\/' for a slash followed
// by a comma inside one. Entries are trimmed and empty entries dropped.
func ParsePatterns(s string) ([]Pattern, error) {
	pieces, err := splitPatterns(s)
	if err != nil {
		return nil, err
	}
	var out []Pattern
	var errs []error
	for _, p := range pieces {
		pat, err := compilePattern(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, pat)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// FormatPatterns writes patterns so that ParsePatterns reads them back.
func FormatPatterns(ps []Pattern) string {
	texts := make([]string, len(ps))
	for i, p := range ps {
		texts[i] = p.text
	}
	return strings.Join(texts, ", ")
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// splitPatterns cuts a list into trimmed, non-empty pieces. A piece whose
// first character (after an optional '!') is '/' is a regular expression and
// runs to its closing slash.
func splitPatterns(s string) ([]string, error) {
	var out []string
	i := 0
	for i < len(s) {
		for i < len(s) && (isBlank(s[i]) || s[i] == ',' || s[i] == '\n') {
			i++
		}
		if i >= len(s) {
			break
		}
		start := i
		j := i
		if s[j] == '!' {
			j++
			for j < len(s) && isBlank(s[j]) {
				j++
			}
		}
		if j < len(s) && s[j] == '/' {
			end := closingSlash(s, j)
			if end < 0 {
				line := s[start:]
				if k := strings.IndexByte(line, '\n'); k >= 0 {
					line = line[:k]
				}
				return nil, fmt.Errorf("%q starts a regular expression with / but has no closing / before the next comma or line", strings.TrimSpace(line))
			}
			out = append(out, s[start:end+1])
			i = end + 1
			continue
		}
		for i < len(s) && s[i] != ',' && s[i] != '\n' {
			i++
		}
		if p := strings.Trim(s[start:i], " \t\r"); p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

// closingSlash returns the index of the slash closing the regular expression
// opened at s[open], or -1.
func closingSlash(s string, open int) int {
	escaped := false
	for k := open + 1; k < len(s); k++ {
		c := s[k]
		switch {
		case c == '\n':
			return -1
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '/':
			m := k + 1
			for m < len(s) && isBlank(s[m]) {
				m++
			}
			if m == len(s) || s[m] == ',' || s[m] == '\n' {
				return k
			}
		}
	}
	return -1
}

// compilePattern compiles one trimmed piece produced by splitPatterns. A
// leading '!' is not allowed here (only package lists exclude).
func compilePattern(text string) (Pattern, error) {
	p := Pattern{text: text}
	if strings.HasPrefix(text, "/") {
		if len(text) < 2 || !strings.HasSuffix(text, "/") {
			return Pattern{}, fmt.Errorf("%q starts a regular expression with / but does not end with /", text)
		}
		body := text[1 : len(text)-1]
		if body == "" {
			return Pattern{}, fmt.Errorf("%q is an empty regular expression", text)
		}
		if _, err := regexp.Compile(body); err != nil {
			return Pattern{}, fmt.Errorf("%q is not a valid regular expression: %s", text, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		re, err := regexp.Compile("^(?:" + body + ")$")
		if err != nil {
			return Pattern{}, fmt.Errorf("%q is not a valid regular expression", text)
		}
		p.re = re
		return p, nil
	}
	if strings.HasPrefix(text, "!") {
		return Pattern{}, fmt.Errorf("%q: exclusions with ! are only for packages; to spare versions use keep-tags", text)
	}
	p.digest = strings.HasPrefix(text, "sha256:")
	toks, err := compileGlob(text)
	if err != nil {
		return Pattern{}, fmt.Errorf("%q is not a valid pattern: %w", text, err)
	}
	if len(toks) == 0 || (len(toks) == 1 && toks[0].kind == globLit) {
		p.literal = true
		if len(toks) == 1 {
			p.lit = toks[0].lit
		}
		return p, nil
	}
	p.glob = toks
	return p, nil
}

func compileGlob(s string) ([]globToken, error) {
	var toks []globToken
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, globToken{kind: globLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '\\':
			if i+1 >= len(s) {
				return nil, errors.New(`it ends with a lone \`)
			}
			_, w := utf8.DecodeRuneInString(s[i+1:])
			lit.WriteString(s[i+1 : i+1+w])
			i += 1 + w
		case '*':
			flush()
			if len(toks) == 0 || toks[len(toks)-1].kind != globStar {
				toks = append(toks, globToken{kind: globStar})
			}
			i++
		case '?':
			flush()
			toks = append(toks, globToken{kind: globAny})
			i++
		case '[':
			flush()
			tok, n, err := compileClass(s[i+1:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, tok)
			i += 1 + n
		default:
			_, w := utf8.DecodeRuneInString(s[i:])
			lit.WriteString(s[i : i+w])
			i += w
		}
	}
	flush()
	return toks, nil
}

// compileClass reads a class after its '['; it returns the token and the
// number of bytes read, closing ']' included.
func compileClass(s string) (globToken, int, error) {
	tok := globToken{kind: globClass}
	i := 0
	if i < len(s) && (s[i] == '^' || s[i] == '!') {
		tok.neg = true
		i++
	}
	classChar := func() (rune, error) {
		if i >= len(s) {
			return 0, errors.New("a [ has no closing ]")
		}
		switch s[i] {
		case '\\':
			i++
			if i >= len(s) {
				return 0, errors.New("a [ has no closing ]")
			}
		case '-', ']':
			return 0, fmt.Errorf("write \\%c for a literal %c inside [...]", s[i], s[i])
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		return r, nil
	}
	for {
		if i >= len(s) {
			return tok, 0, errors.New("a [ has no closing ]")
		}
		if s[i] == ']' && len(tok.ranges) > 0 {
			return tok, i + 1, nil
		}
		lo, err := classChar()
		if err != nil {
			return tok, 0, err
		}
		hi := lo
		if i < len(s) && s[i] == '-' {
			i++
			if hi, err = classChar(); err != nil {
				return tok, 0, err
			}
			if hi < lo {
				return tok, 0, fmt.Errorf("the range %c-%c is reversed", lo, hi)
			}
		}
		tok.ranges = append(tok.ranges, lo, hi)
	}
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.text }

// IsDigest reports whether the pattern starts with "sha256:" and so matches
// a container version's digest instead of its tags.
func (p Pattern) IsDigest() bool { return p.digest }

// IsRegexp reports whether the pattern is a /.../ regular expression.
func (p Pattern) IsRegexp() bool { return p.re != nil }

// HasGlob reports whether the pattern can match more than one text: a glob
// with a wildcard or a regular expression. A pattern without one is a
// literal name (see Literal).
func (p Pattern) HasGlob() bool { return p.re != nil || !p.literal }

// Literal returns the text a pattern without wildcard matches (escapes
// removed), and whether the pattern is such a literal.
func (p Pattern) Literal() (string, bool) {
	if p.text == "" || p.HasGlob() {
		return "", false
	}
	return p.lit, true
}

// Match reports whether the pattern matches the whole text.
func (p Pattern) Match(s string) bool {
	switch {
	case p.text == "":
		return false
	case p.re != nil:
		return p.re.MatchString(s)
	case p.literal:
		return s == p.lit
	default:
		return matchGlob(p.glob, s)
	}
}

// matchVersion reports whether the pattern matches one of the labels or, for
// a digest pattern, the digest.
func (p *Pattern) matchVersion(digest string, labels []string) bool {
	if p.digest {
		return p.Match(digest)
	}
	for _, l := range labels {
		if p.Match(l) {
			return true
		}
	}
	return false
}

// matchGlob matches with backtracking to the last star, which is exact for
// globs whose other tokens have a fixed width.
func matchGlob(toks []globToken, s string) bool {
	ti, si := 0, 0
	starT, starS := -1, 0
	for {
		if ti < len(toks) {
			t := &toks[ti]
			switch t.kind {
			case globStar:
				starT, starS = ti, si
				ti++
				continue
			case globLit:
				if strings.HasPrefix(s[si:], t.lit) {
					ti++
					si += len(t.lit)
					continue
				}
			case globAny:
				if si < len(s) {
					_, w := utf8.DecodeRuneInString(s[si:])
					ti++
					si += w
					continue
				}
			case globClass:
				if si < len(s) {
					r, w := utf8.DecodeRuneInString(s[si:])
					if t.classMatch(r) {
						ti++
						si += w
						continue
					}
				}
			}
		} else if si == len(s) {
			return true
		}
		if starT < 0 || starS >= len(s) {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[starS:])
		starS += w
		ti, si = starT+1, starS
	}
}

func (t *globToken) classMatch(r rune) bool {
	in := false
	for k := 0; k+1 < len(t.ranges); k += 2 {
		if t.ranges[k] <= r && r <= t.ranges[k+1] {
			in = true
			break
		}
	}
	return in != t.neg
}

// MarshalJSON encodes the pattern as the text written.
func (p Pattern) MarshalJSON() ([]byte, error) { return marshalJSON(p.text) }

// UnmarshalJSON parses one pattern from a JSON string.
func (p *Pattern) UnmarshalJSON(b []byte) error {
	q, err := unmarshalParsed(b, "pattern", ParsePattern)
	if err == nil {
		*p = q
	}
	return err
}

// IsAttachmentTag reports whether a container tag names the image it is
// attached to rather than the version carrying it: cosign's
// sha256-<hex>.sig, .att and .sbom tags and the sha256-<hex> tag of a
// referrers fallback index. It returns the subject's digest, "sha256:<hex>".
func IsAttachmentTag(tag string) (subjectDigest string, ok bool) {
	const prefix = "sha256-"
	if len(tag) < len(prefix)+64 || tag[:len(prefix)] != prefix {
		return "", false
	}
	hex := tag[len(prefix) : len(prefix)+64]
	for i := 0; i < len(hex); i++ {
		c := hex[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	switch tag[len(prefix)+64:] {
	case "", ".sig", ".att", ".sbom":
		return "sha256:" + hex, true
	}
	return "", false
}

// Labels returns what patterns and ranges match for a version: for
// containers its tags without attachment tags (see IsAttachmentTag), for
// every other type its name. The result may share memory with v.Tags.
func Labels(typ PackageType, v *Version) []string {
	if typ != Container && typ != "" {
		return []string{v.Name}
	}
	return realTags(v.Tags)
}

func realTags(tags []string) []string {
	n := 0
	for _, t := range tags {
		if _, ok := IsAttachmentTag(t); !ok {
			n++
		}
	}
	if n == len(tags) {
		return tags
	}
	out := make([]string, 0, n)
	for _, t := range tags {
		if _, ok := IsAttachmentTag(t); !ok {
			out = append(out, t)
		}
	}
	return out
}
