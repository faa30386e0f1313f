package fakegh

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// This file holds a small validator for the part of OpenAPI 3.0's schema
// language that GitHub's description of the package endpoints uses: $ref,
// type, nullable, enum, format (date-time, uri, email, int64), required,
// properties, additionalProperties, items, oneOf, anyOf and allOf. A
// keyword it does not know is an error, so that a newer description cannot
// make it check less than it seems to.

// apiSpec is the subset of an OpenAPI document the contract test reads.
type apiSpec struct {
	Info struct {
		Version string `json:"version"`
		Source  string `json:"x-source"`
	} `json:"info"`
	Paths      map[string]map[string]*apiOperation `json:"paths"`
	Components struct {
		Schemas map[string]any `json:"schemas"`
	} `json:"components"`
}

type apiOperation struct {
	OperationID string                  `json:"operationId"`
	Responses   map[string]*apiResponse `json:"responses"`
}

type apiResponse struct {
	Content map[string]struct {
		Schema any `json:"schema"`
	} `json:"content"`
}

// loadSpec reads the checked-in extract of GitHub's OpenAPI description.
func loadSpec(t testing.TB) *apiSpec {
	t.Helper()
	b, err := os.ReadFile("testdata/openapi/packages.json")
	if err != nil {
		t.Fatalf("read OpenAPI extract: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var s apiSpec
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("decode OpenAPI extract: %v", err)
	}
	if len(s.Paths) == 0 || len(s.Components.Schemas) == 0 {
		t.Fatal("OpenAPI extract has no paths or no schemas")
	}
	return &s
}

// operations lists the spec's operations as "METHOD /path".
func (s *apiSpec) operations() []string {
	var ops []string
	for p, ms := range s.Paths {
		for m := range ms {
			ops = append(ops, strings.ToUpper(m)+" "+p)
		}
	}
	sort.Strings(ops)
	return ops
}

// operation returns the operation named "METHOD /path", or nil.
func (s *apiSpec) operation(name string) *apiOperation {
	method, path, _ := strings.Cut(name, " ")
	return s.Paths[path][strings.ToLower(method)]
}

// decodeJSON decodes a body keeping numbers exact.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

// validate checks value against schema and returns every problem found,
// each with the JSON path where it was found.
func (s *apiSpec) validate(schema, value any) []string {
	var errs []string
	s.check(schema, value, "$", &errs)
	return errs
}

var ignoredKeywords = map[string]bool{"title": true, "default": true, "deprecated": true, "description": true, "readOnly": true}

func (s *apiSpec) check(schema, x any, at string, errs *[]string) {
	fail := func(format string, args ...any) {
		*errs = append(*errs, at+": "+fmt.Sprintf(format, args...))
	}
	sc, ok := schema.(map[string]any)
	if !ok {
		fail("schema is %T, not an object", schema)
		return
	}
	if ref, ok := sc["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/components/schemas/")
		target, known := s.Components.Schemas[name]
		if !found || !known {
			fail("unresolvable $ref %q", ref)
			return
		}
		s.check(target, x, at, errs)
		return
	}
	for k := range sc {
		switch k {
		case "type", "nullable", "enum", "format", "required", "properties", "additionalProperties", "items", "oneOf", "anyOf", "allOf":
		default:
			if !ignoredKeywords[k] {
				fail("schema keyword %q is not supported by this validator", k)
			}
		}
	}
	if x == nil {
		if sc["nullable"] != true && sc["type"] != nil {
			fail("null where %v is required", sc["type"])
		}
		return
	}
	if typ, ok := sc["type"].(string); ok && !hasType(x, typ) {
		fail("%s where %s is required", jsonType(x), typ)
		return
	}
	if enum, ok := sc["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(x) }) {
		fail("%v is not one of %v", x, enum)
	}
	if f, ok := sc["format"].(string); ok {
		if str, isStr := x.(string); isStr {
			if err := checkFormat(f, str); err != nil {
				fail("%q is not a valid %s: %v", str, f, err)
			}
		} else if f != "int64" && f != "int32" {
			fail("format %q on a %s", f, jsonType(x))
		}
	}
	if obj, ok := x.(map[string]any); ok {
		for _, r := range asList(sc["required"]) {
			if _, ok := obj[fmt.Sprint(r)]; !ok {
				fail("required property %q is missing", r)
			}
		}
		props, _ := sc["properties"].(map[string]any)
		for _, k := range sortedKeys(obj) {
			if ps, ok := props[k]; ok {
				s.check(ps, obj[k], at+"."+k, errs)
				continue
			}
			switch ap := sc["additionalProperties"].(type) {
			case bool:
				if !ap {
					fail("property %q is not allowed", k)
				}
			case map[string]any:
				s.check(ap, obj[k], at+"."+k, errs)
			}
		}
	}
	if arr, ok := x.([]any); ok {
		if items, ok := sc["items"]; ok {
			for i, e := range arr {
				s.check(items, e, fmt.Sprintf("%s[%d]", at, i), errs)
			}
		}
	}
	if subs := asList(sc["allOf"]); subs != nil {
		for _, sub := range subs {
			s.check(sub, x, at, errs)
		}
	}
	if subs := asList(sc["anyOf"]); subs != nil {
		if s.matching(subs, x) == 0 {
			fail("matches none of anyOf")
		}
	}
	if subs := asList(sc["oneOf"]); subs != nil {
		if n := s.matching(subs, x); n != 1 {
			var why []string
			for i, sub := range subs {
				why = append(why, fmt.Sprintf("[%d] %s", i, strings.Join(s.validate(sub, x), "; ")))
			}
			fail("matches %d of oneOf, want exactly 1: %s", n, strings.Join(why, " | "))
		}
	}
}

func (s *apiSpec) matching(subs []any, x any) int {
	n := 0
	for _, sub := range subs {
		if len(s.validate(sub, x)) == 0 {
			n++
		}
	}
	return n
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func hasType(x any, typ string) bool {
	switch typ {
	case "object":
		_, ok := x.(map[string]any)
		return ok
	case "array":
		_, ok := x.([]any)
		return ok
	case "string":
		_, ok := x.(string)
		return ok
	case "boolean":
		_, ok := x.(bool)
		return ok
	case "number":
		_, ok := x.(json.Number)
		return ok
	case "integer":
		n, ok := x.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	}
	return false
}

func jsonType(x any) string {
	switch v := x.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		return "number"
	}
	return fmt.Sprintf("%T", x)
}

func checkFormat(format, s string) error {
	switch format {
	case "date-time":
		_, err := time.Parse(time.RFC3339, s)
		return err
	case "uri":
		u, err := url.Parse(s)
		if err != nil {
			return err
		}
		if u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("not absolute")
		}
		return nil
	case "email":
		_, err := mail.ParseAddress(s)
		return err
	case "int64", "int32":
		return fmt.Errorf("integer format on a string")
	}
	return fmt.Errorf("format %q is not supported by this validator", format)
}
