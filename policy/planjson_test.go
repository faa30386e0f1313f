package policy

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestWriteJSONMatchesTheEncoder checks the streaming writer against
// encoding/json's indented encoding of the same plan, for every golden
// plan and for empty and incomplete packages.
func TestWriteJSONMatchesTheEncoder(t *testing.T) {
	plans := map[string]*Plan{
		"no packages":        {},
		"incomplete package": {Packages: []PackagePlan{{Owner: "acme", Type: Npm, Name: "x", Error: "listing <failed> & stopped"}}},
		"deferred package":   {Packages: []PackagePlan{{Owner: "acme", Type: Npm, Name: "y", Error: "secondary rate limit", Deferred: true}}},
		"unresolved pattern": {Packages: []PackagePlan{{Owner: "acme", Type: Container, Name: "app-*", Error: "400 Invalid argument.", Unresolved: true}}},
		"nil tags and parents": {Packages: []PackagePlan{{Owner: "acme", Type: Container, Name: "app", Complete: true,
			Versions: []VersionPlan{{ID: 1, Name: "sha256:a", Decision: Keep, Reason: "keep-semver:<2.0.0"}, {ID: 2, Tags: []string{"v1"}, Parents: []string{"sha256:a"}, Result: ResultDeleted}}}}},
	}
	for _, file := range scenarioFiles(t) {
		sc, in, pkgs := loadScenario(t, file)
		pol, err := Parse(in)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		plans[filepath.Base(file)] = Build(pol, pkgs, sc.Now)
	}
	for name, p := range plans {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(p.plain()); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := p.WriteJSON(&got); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("WriteJSON differs from the encoder:\n got: %s\nwant: %s", got.String(), want.String())
			}
		})
	}
}
