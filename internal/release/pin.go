// Package release holds what the release workflow (.github/workflows/
// release.yml) runs besides Docker: the rewrite of action.yml that makes a
// released ref run the prebuilt image, pinned by digest. Its tests also
// build the action's image from the Dockerfile without a Docker engine and
// measure it.
package release

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"

	"go.yaml.in/yaml/v3"
)

var (
	// digestRE is an image digest as a registry reports it.
	digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	// imageRE is a repository reference without tag or digest, lower case
	// as registries require: host[:port]/path.
	imageRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+$`)
)

// ImageRef returns the runs.image value that runs image at digest:
// docker://IMAGE@DIGEST. The image is a repository without tag or digest
// (ghcr.io/owner/repo), the digest sha256:<64 hex>.
func ImageRef(image, digest string) (string, error) {
	var errs []error
	if !imageRE.MatchString(image) {
		errs = append(errs, fmt.Errorf("image %q: want a lower-case repository without tag or digest, like ghcr.io/owner/repo", image))
	}
	if !digestRE.MatchString(digest) {
		errs = append(errs, fmt.Errorf("digest %q: want sha256: and 64 lower-case hex digits", digest))
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return "docker://" + image + "@" + digest, nil
}

// PinImage returns action (the text of an action.yml) with the value of
// runs.image replaced by ref, every other byte unchanged: comments, order
// and quoting stay as they were. The action must be a docker action whose
// image is written on one line.
func PinImage(action []byte, ref string) ([]byte, error) {
	node, err := runsImage(action)
	if err != nil {
		return nil, err
	}
	lines := bytes.SplitAfter(action, []byte("\n"))
	i := node.Line - 1
	line := lines[i]
	start := node.Column - 1
	// The scalar as written: plain, or quoted with its quotes.
	end := start + len(node.Value)
	if node.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		q := line[start]
		k := bytes.IndexByte(line[start+1:], q)
		if k < 0 {
			return nil, fmt.Errorf("action.yml line %d: runs.image is not written on one line", node.Line)
		}
		end = start + 1 + k + 1
	}
	if end > len(line) || string(bytes.Trim(line[start:end], `"'`)) != node.Value {
		return nil, fmt.Errorf("action.yml line %d: runs.image is not written on one line", node.Line)
	}
	var out bytes.Buffer
	for _, l := range lines[:i] {
		out.Write(l)
	}
	out.Write(line[:start])
	out.WriteString(ref)
	out.Write(line[end:])
	for _, l := range lines[i+1:] {
		out.Write(l)
	}
	// Read it back: the new value, and nothing else moved.
	got, err := runsImage(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("rewritten action.yml: %w", err)
	}
	if got.Value != ref {
		return nil, fmt.Errorf("rewritten action.yml reads runs.image as %q, want %q", got.Value, ref)
	}
	return out.Bytes(), nil
}

// runsImage returns the scalar node of runs.image of a docker action.
func runsImage(action []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(action, &doc); err != nil {
		return nil, fmt.Errorf("action.yml: %w", err)
	}
	if len(doc.Content) != 1 {
		return nil, errors.New("action.yml: not one YAML document")
	}
	runs := mapValue(doc.Content[0], "runs")
	if runs == nil {
		return nil, errors.New("action.yml: no runs mapping")
	}
	if using := mapValue(runs, "using"); using == nil || using.Value != "docker" {
		return nil, errors.New("action.yml: runs.using is not docker")
	}
	image := mapValue(runs, "image")
	if image == nil || image.Kind != yaml.ScalarNode || image.Value == "" {
		return nil, errors.New("action.yml: runs.image is missing or not a string")
	}
	return image, nil
}

// mapValue returns the value of key in a mapping node, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
