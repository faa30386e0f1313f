package app

import (
	"fmt"
	"strings"
	"testing"
)

// This file is a small evaluator of GitHub Actions expressions, for exactly
// the forms the README's workflows use, so that the tests can run those
// workflows' steps as a runner would: `${{ … }}` inside a string, context
// lookups (`github.event.repository.name`, `inputs.dry-run`,
// `steps.plan.outputs.path`), string literals ('false', with '' for a
// quote) and `a || b`. Anything else (functions, operators, indexes,
// numbers) is an error, so that a workflow that starts using it fails the
// tests instead of being evaluated wrongly.
//
// Semantics, as GitHub documents them: a property that does not exist is
// null; property names are case-insensitive; `a || b` is the first truthy
// operand, else the last; null, false, 0 and '' are falsy; in a string,
// null is written as '' and booleans as true and false.

// exprContexts are the contexts an expression may read, by name.
type exprContexts map[string]any

// evalTemplate replaces every `${{ expr }}` of s by its value.
func evalTemplate(s string, ctx exprContexts) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return "", fmt.Errorf("unclosed ${{ in %q", s)
		}
		v, err := evalExpr(s[i+3:i+j], ctx)
		if err != nil {
			return "", err
		}
		b.WriteString(s[:i])
		b.WriteString(exprString(v))
		s = s[i+j+2:]
	}
}

// evalExpr evaluates one expression (the text between ${{ and }}).
func evalExpr(expr string, ctx exprContexts) (any, error) {
	toks, err := exprTokens(expr)
	if err != nil {
		return nil, err
	}
	p := &exprParser{toks: toks, ctx: ctx, src: expr}
	v, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("expression %q: unexpected %q", expr, p.toks[p.pos].text)
	}
	return v, nil
}

type exprToken struct {
	kind byte // 'i' identifier, 's' string, '.', '|' (for ||)
	text string
}

func exprTokens(expr string) ([]exprToken, error) {
	var toks []exprToken
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '.':
			toks = append(toks, exprToken{'.', "."})
			i++
		case strings.HasPrefix(expr[i:], "||"):
			toks = append(toks, exprToken{'|', "||"})
			i += 2
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(expr) {
					return nil, fmt.Errorf("expression %q: unclosed string", expr)
				}
				if expr[j] == '\'' {
					if j+1 < len(expr) && expr[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(expr[j])
				j++
			}
			toks = append(toks, exprToken{'s', b.String()})
			i = j + 1
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(expr) && (expr[j] == '_' || expr[j] == '-' || expr[j] >= 'a' && expr[j] <= 'z' || expr[j] >= 'A' && expr[j] <= 'Z' || expr[j] >= '0' && expr[j] <= '9') {
				j++
			}
			toks = append(toks, exprToken{'i', expr[i:j]})
			i = j
		default:
			return nil, fmt.Errorf("expression %q: %q is not supported by this evaluator (only context lookups, 'strings' and ||)", expr, expr[i:])
		}
	}
	return toks, nil
}

type exprParser struct {
	toks []exprToken
	pos  int
	ctx  exprContexts
	src  string
}

func (p *exprParser) or() (any, error) {
	v, err := p.primary()
	if err != nil {
		return nil, err
	}
	for p.pos < len(p.toks) && p.toks[p.pos].kind == '|' {
		p.pos++
		w, err := p.primary()
		if err != nil {
			return nil, err
		}
		if !exprTruthy(v) {
			v = w
		}
	}
	return v, nil
}

func (p *exprParser) primary() (any, error) {
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("expression %q: ends too early", p.src)
	}
	t := p.toks[p.pos]
	p.pos++
	switch t.kind {
	case 's':
		return t.text, nil
	case 'i':
		switch strings.ToLower(t.text) {
		case "true", "false", "null":
			return nil, fmt.Errorf("expression %q: literal %s is not supported by this evaluator", p.src, t.text)
		}
		v, ok := lookupFold(map[string]any(p.ctx), t.text)
		if !ok {
			return nil, fmt.Errorf("expression %q: unknown context %q", p.src, t.text)
		}
		for p.pos+1 < len(p.toks) && p.toks[p.pos].kind == '.' && p.toks[p.pos+1].kind == 'i' {
			name := p.toks[p.pos+1].text
			p.pos += 2
			m, isMap := v.(map[string]any)
			if !isMap {
				v = nil // a property of null or of a string is null
				continue
			}
			v, _ = lookupFold(m, name)
		}
		if p.pos < len(p.toks) && p.toks[p.pos].kind == '.' {
			return nil, fmt.Errorf("expression %q: a dot not followed by a property name", p.src)
		}
		return v, nil
	}
	return nil, fmt.Errorf("expression %q: unexpected %q", p.src, t.text)
}

// lookupFold finds a key case-insensitively, as GitHub's property access.
func lookupFold(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func exprTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case bool:
		return x
	case int:
		return x != 0
	}
	return true // objects
}

func exprString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int:
		return fmt.Sprint(x)
	}
	return "Object" // what a runner writes for an object in a string
}

func TestEvalExpr(t *testing.T) {
	ctx := exprContexts{
		"github": map[string]any{
			"event":  map[string]any{"schedule": "17 3 * * *"},
			"token":  "ghs_x",
			"run_id": "42",
		},
		"inputs": map[string]any{},
		"steps":  map[string]any{"plan": map[string]any{"outputs": map[string]any{"path": "p.json"}}},
	}
	good := []struct{ in, want string }{
		{"${{ github.token }}", "ghs_x"},
		{"${{ github.event.repository.name }}", ""}, // no repository on schedule: null
		{"${{ github.event.repository.name.x }}", ""},
		{"${{ inputs.dry-run || 'false' }}", "false"},
		{"${{ inputs.dry-run }}", ""},
		{"${{ steps.plan.outputs.path }}", "p.json"},
		{"${{ STEPS.Plan.outputs.PATH }}", "p.json"},
		{"plan-${{ github.run_id }}.json", "plan-42.json"},
		{"${{ 'it''s' }}", "it's"},
		{"${{ '' || inputs.x || 'last' }}", "last"},
		{"${{ github.token || 'b' }}", "ghs_x"},
		{"no expression", "no expression"},
	}
	for _, tt := range good {
		got, err := evalTemplate(tt.in, ctx)
		if err != nil || got != tt.want {
			t.Errorf("%s = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	ctx["inputs"] = map[string]any{"dry-run": "true"}
	if got, _ := evalTemplate("${{ inputs.dry-run || 'false' }}", ctx); got != "true" {
		t.Errorf("inputs.dry-run || 'false' with dry-run true = %q", got)
	}
	bad := []string{
		"${{ github.token == 'x' }}",
		"${{ format('{0}', github.token) }}",
		"${{ !inputs.x }}",
		"${{ inputs.x && 'y' }}",
		"${{ github['token'] }}",
		"${{ 1 }}",
		"${{ true }}",
		"${{ vars.X }}",
		"${{ github. }}",
		"${{ 'open }}",
		"${{ github.token ",
		"${{ github.token 'x' }}",
		"${{ || 'x' }}",
	}
	for _, in := range bad {
		if got, err := evalTemplate(in, ctx); err == nil {
			t.Errorf("%s = %q, want an error", in, got)
		}
	}
}
