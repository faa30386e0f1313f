//go:build ignore

// Command extract copies the GitHub Packages part of GitHub's OpenAPI
// description into packages.json, the file the fake API's contract test
// (internal/fakegh) checks the fake against. See README.md for how to run it.
//
// It keeps the 24 package endpoints plus GET /user, GET /users/{username}
// and GET /orgs/{org} (the owner lookups); of each operation its id, parameters and response
// schemas. Descriptions, examples and x- extensions are dropped, and every
// named schema (one with a title) is moved to components/schemas and
// referenced with $ref, so the file stays small and reviewable.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"regexp"
	"sort"
	"strings"
)

var (
	packagePaths = regexp.MustCompile(`^/(orgs/\{org\}|users/\{username\}|user)/packages(/|$)`)
	ownerPaths   = map[string]bool{"/user": true, "/users/{username}": true, "/orgs/{org}": true}
	methods      = []string{"get", "post", "delete"}
	dropKeys     = map[string]bool{"description": true, "summary": true, "example": true, "examples": true, "externalDocs": true, "tags": true}
)

func main() {
	in := flag.String("in", "", "path of generated/api.github.com.deref.json from the @octokit/openapi npm package")
	out := flag.String("out", "packages.json", "file to write")
	source := flag.String("source", "", "where the input came from, recorded in info.x-source (e.g. @octokit/openapi@23.0.2)")
	flag.Parse()
	if *in == "" || *source == "" {
		log.Fatal("usage: go run extract.go -in api.github.com.deref.json -source @octokit/openapi@VERSION [-out packages.json]")
	}
	f, err := os.Open(*in)
	if err != nil {
		log.Fatal(err)
	}
	dec := json.NewDecoder(f)
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		log.Fatalf("decode %s: %v", *in, err)
	}
	f.Close()

	info := doc["info"].(map[string]any)
	x := &extractor{schemas: map[string]any{}}
	paths := map[string]any{}
	all := doc["paths"].(map[string]any)
	for _, p := range sortedKeys(all) {
		if !packagePaths.MatchString(p) && !ownerPaths[p] {
			continue
		}
		ops := all[p].(map[string]any)
		kept := map[string]any{}
		for _, m := range methods {
			op, ok := ops[m].(map[string]any)
			if !ok || ownerPaths[p] && m != "get" {
				continue
			}
			kept[m] = x.operation(op)
		}
		paths[p] = kept
	}
	result := map[string]any{
		"openapi": doc["openapi"],
		"info": map[string]any{
			"title":    "GitHub Packages REST API (subset)",
			"version":  info["version"],
			"x-source": *source + " generated/api.github.com.deref.json",
		},
		"paths":      paths,
		"components": map[string]any{"schemas": x.schemas},
	}
	b, err := json.MarshalIndent(result, "", " ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote %s: %d paths, %d schemas, %d bytes\n", *out, len(paths), len(x.schemas), len(b)+1)
}

type extractor struct {
	schemas map[string]any // name -> schema
}

// operation keeps an operation's id, parameters and response schemas.
func (x *extractor) operation(op map[string]any) map[string]any {
	kept := map[string]any{"operationId": op["operationId"]}
	if params, ok := op["parameters"].([]any); ok {
		var ps []any
		for _, p := range params {
			pm := p.(map[string]any)
			q := map[string]any{"name": pm["name"], "in": pm["in"]}
			if r, ok := pm["required"]; ok {
				q["required"] = r
			}
			if s, ok := pm["schema"]; ok {
				q["schema"] = x.schema(s)
			}
			ps = append(ps, q)
		}
		kept["parameters"] = ps
	}
	responses := map[string]any{}
	for status, r := range op["responses"].(map[string]any) {
		rm := r.(map[string]any)
		resp := map[string]any{}
		if content, ok := rm["content"].(map[string]any); ok {
			c := map[string]any{}
			for mt, m := range content {
				c[mt] = map[string]any{"schema": x.schema(m.(map[string]any)["schema"])}
			}
			resp["content"] = c
		}
		responses[status] = resp
	}
	kept["responses"] = responses
	return kept
}

// schema strips documentation from a schema and moves its named parts to
// components, children first.
func (x *extractor) schema(v any) any {
	switch s := v.(type) {
	case []any:
		out := make([]any, len(s))
		for i, e := range s {
			out[i] = x.schema(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for _, k := range sortedKeys(s) {
			if dropKeys[k] || strings.HasPrefix(k, "x-") {
				continue
			}
			if k == "properties" {
				props := map[string]any{}
				pm := s[k].(map[string]any)
				for _, name := range sortedKeys(pm) {
					props[name] = x.schema(pm[name])
				}
				out[k] = props
				continue
			}
			if k == "enum" || k == "required" || k == "default" {
				out[k] = s[k]
				continue
			}
			out[k] = x.schema(s[k])
		}
		title, ok := out["title"].(string)
		if !ok {
			return out
		}
		return map[string]any{"$ref": "#/components/schemas/" + x.name(title, out)}
	default:
		return v
	}
}

var nonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// name registers a named schema and returns its component name: the title
// in kebab case, "nullable-" first when it may be null, a number after it
// when another schema already has that name.
func (x *extractor) name(title string, s map[string]any) string {
	base := strings.Trim(nonAlnum.ReplaceAllString(strings.ToLower(title), "-"), "-")
	if s["nullable"] == true {
		base = "nullable-" + base
	}
	want, _ := json.Marshal(s)
	for i := 1; ; i++ {
		n := base
		if i > 1 {
			n = fmt.Sprintf("%s-%d", base, i)
		}
		have, ok := x.schemas[n]
		if !ok {
			x.schemas[n] = s
			return n
		}
		if b, _ := json.Marshal(have); string(b) == string(want) {
			return n
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
