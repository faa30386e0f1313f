package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pkgretention/retention/cleanup"
	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/policy"
)

// repoFile reads a file at the repository root.
func repoFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type actionYML struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Author      string `yaml:"author"`
	Branding    struct {
		Icon  string `yaml:"icon"`
		Color string `yaml:"color"`
	} `yaml:"branding"`
	Inputs  yaml.Node `yaml:"inputs"`
	Outputs yaml.Node `yaml:"outputs"`
	Runs    struct {
		Using string `yaml:"using"`
		Image string `yaml:"image"`
	} `yaml:"runs"`
}

type actionInput struct {
	Description string  `yaml:"description"`
	Default     *string `yaml:"default"`
	Required    bool    `yaml:"required"`
}

// ordered decodes a YAML mapping node keeping the order of its keys.
func ordered[T any](t *testing.T, n yaml.Node) ([]string, map[string]T) {
	t.Helper()
	if n.Kind != yaml.MappingNode {
		t.Fatalf("not a mapping at line %d", n.Line)
	}
	var keys []string
	vals := map[string]T{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		var v T
		if err := n.Content[i+1].Decode(&v); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, n.Content[i].Value)
		vals[n.Content[i].Value] = v
	}
	return keys, vals
}

func TestActionYMLMatchesInputs(t *testing.T) {
	var a actionYML
	if err := yaml.Unmarshal(repoFile(t, "action.yml"), &a); err != nil {
		t.Fatal(err)
	}
	if a.Name == "" || a.Description == "" || a.Author == "" || a.Branding.Icon == "" || a.Branding.Color == "" {
		t.Errorf("action.yml lacks name, description, author or branding: %+v", a)
	}
	if a.Runs.Using != "docker" || a.Runs.Image != "Dockerfile" {
		t.Errorf("runs = %+v, want using: docker, image: Dockerfile", a.Runs)
	}

	names, inputs := ordered[actionInput](t, a.Inputs)
	var want []string
	for _, def := range policy.InputDefs {
		want = append(want, def.Name)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("action.yml inputs:\n%v\nthe inputs table:\n%v", names, want)
	}
	for _, def := range policy.InputDefs {
		got := inputs[def.Name]
		if got.Description != def.Description {
			t.Errorf("input %s: description\n%q in action.yml,\n%q in the table", def.Name, got.Description, def.Description)
		}
		gotDefault := ""
		if got.Default != nil {
			gotDefault = *got.Default
		}
		if gotDefault != def.Default {
			t.Errorf("input %s: default %q in action.yml, %q in the table", def.Name, gotDefault, def.Default)
		}
		if def.Rule && got.Default != nil {
			t.Errorf("rule input %s has a default in action.yml: the program could not tell it from a value the user wrote", def.Name)
		}
		if got.Required {
			t.Errorf("input %s is required in action.yml: the program reports missing inputs itself", def.Name)
		}
	}

	outNames, outputs := ordered[actionInput](t, a.Outputs)
	var wantOut []string
	for _, o := range Outputs {
		wantOut = append(wantOut, o.Name)
		if outputs[o.Name].Description != o.Description {
			t.Errorf("output %s: description %q in action.yml, %q in the table", o.Name, outputs[o.Name].Description, o.Description)
		}
	}
	if !slices.Equal(outNames, wantOut) {
		t.Errorf("action.yml outputs %v, want %v", outNames, wantOut)
	}
}

func TestHelpListsEveryInput(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := mainWith(context.Background(), []string{"--help"}, func(string) string { return "" }, &stdout, &stderr, deps{clock: clock.Real{}})
	if code != ExitOK {
		t.Fatalf("--help exited %d: %s", code, stderr.String())
	}
	help := stdout.String()
	flagRE := regexp.MustCompile(`(?m)^  (--[a-z-]+|[A-Z_]+)\b`)
	listed := map[string]bool{}
	for _, m := range flagRE.FindAllStringSubmatch(help, -1) {
		listed[m[1]] = true
	}
	for _, def := range policy.InputDefs {
		want := "--" + def.Name
		if def.Env != "" {
			want = def.Env
			if !strings.Contains(help, "The "+def.Name+" input.") {
				t.Errorf("--help does not say %s is the %s input", def.Env, def.Name)
			}
		}
		if !listed[want] {
			t.Errorf("--help does not list %s (input %s)", want, def.Name)
		}
	}
	for name := range listed {
		if !strings.HasPrefix(name, "--") {
			continue
		}
		if _, ok := policy.LookupInput(strings.TrimPrefix(name, "--")); !ok && !slices.Contains([]string{"--json", "--plan-file", "--help"}, name) {
			t.Errorf("--help lists %s, which is neither an input nor a command-line option", name)
		}
	}
}

// dockerStages splits a Dockerfile into its stages' instructions.
func dockerStages(t *testing.T, src string) [][]string {
	t.Helper()
	src = strings.ReplaceAll(src, "\\\n", " ")
	var stages [][]string
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(strings.ToUpper(line), "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("instruction before FROM: %q", line)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], line)
	}
	return stages
}

func TestDockerfile(t *testing.T) {
	stages := dockerStages(t, string(repoFile(t, "Dockerfile")))
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a final stage", len(stages))
	}
	build, final := strings.Join(stages[0], "\n"), stages[len(stages)-1]

	if !regexp.MustCompile(`(?m)^FROM (--platform=\S+ )?golang:1\.26\S* AS build`).MatchString(build) {
		t.Errorf("build stage is not FROM golang:1.26 AS build:\n%s", build)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-ldflags='-s -w'", "-o /out/retention ."} {
		if !strings.Contains(build, want) {
			t.Errorf("build stage lacks %q:\n%s", want, build)
		}
	}

	// scratch: the CA roots are compiled in (internal/release's image test
	// checks that the image's binary embeds them).
	if from := final[0]; from != "FROM scratch" {
		t.Errorf("final stage %q: want FROM scratch", from)
	}
	if !strings.Contains(string(repoFile(t, "main.go")), `_ "golang.org/x/crypto/x509roots/fallback"`) {
		t.Error("main.go does not import golang.org/x/crypto/x509roots/fallback: on scratch the binary would have no CA roots")
	}
	var entry bool
	for _, ins := range final {
		word := strings.ToUpper(strings.Fields(ins)[0])
		switch word {
		case "USER", "WORKDIR":
			t.Errorf("final stage sets %s (%q): a docker action must run as root in the directory the runner sets", word, ins)
		case "RUN":
			t.Errorf("final stage runs %q: the final image has no shell", ins)
		case "ENTRYPOINT":
			entry = ins == `ENTRYPOINT ["/retention"]`
		}
	}
	if !entry {
		t.Errorf("final stage has no ENTRYPOINT [\"/retention\"]: %q", final)
	}
}

// The inputs table states the defaults that other packages apply: they
// must say the same.
func TestInputDefaultsMatchTheCode(t *testing.T) {
	def, _ := policy.LookupInput(policy.InMaxDeletesPerMinute)
	if want := strconv.Itoa(cleanup.DefaultDeletesPerMinute); def.Default != want {
		t.Errorf("max-deletes-per-minute: default %q in the table, cleanup paces at %s", def.Default, want)
	}
	def, _ = policy.LookupInput(policy.InRegistryURL)
	if !strings.Contains(def.Description, "Default: "+containers.DefaultRegistryURL+",") {
		t.Errorf("registry-url: description %q does not name the reader's default, %s", def.Description, containers.DefaultRegistryURL)
	}
}
