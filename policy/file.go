package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseFile parses a policy file: a mapping with one key, rules, a list of
// mappings whose keys are rule input names. Errors name the rule by its
// index from 0: "rules[1].keep-latest: ...".
func parseFile(data []byte, file, defaultOwner string) ([]Rule, []error) {
	fail := func(line int, format string, args ...any) error {
		return &InputError{File: file, Rule: -1, Input: InPolicyFile, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, []error{fail(0, "the file is empty; write rules: with at least one rule")}
	}
	if err != nil {
		return nil, []error{syntaxError(data, file, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, []error{fail(0, "the file holds more than one YAML document; write all rules under one rules: key")}
	}
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = deref(root.Content[0])
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, []error{fail(0, "the file is empty; write rules: with at least one rule")}
	}
	if root.Kind != yaml.MappingNode {
		return nil, []error{fail(0, "the file must be a mapping with one key, rules")}
	}
	var errs []error
	var rulesNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := deref(root.Content[i]), root.Content[i+1]
		key := k.Value
		switch {
		case k.Kind != yaml.ScalarNode:
			errs = append(errs, fail(k.Line, "keys must be names"))
		case key == "rules":
			if rulesNode != nil {
				errs = append(errs, fail(k.Line, "rules is given twice"))
			}
			rulesNode = deref(v)
		case isActionInput(key):
			errs = append(errs, fail(k.Line, "%s is an input of the action, not a key of the policy file", key))
		case slices.Contains(RuleInputs, key):
			errs = append(errs, fail(k.Line, "%s belongs in a rule, in the list under rules", key))
		default:
			errs = append(errs, fail(k.Line, "unknown key %q; the file has one key, rules", key))
		}
	}
	if rulesNode == nil {
		if len(errs) == 0 {
			errs = append(errs, fail(0, "no rules; write rules: with at least one rule"))
		}
		return nil, errs
	}
	if rulesNode.Kind == yaml.ScalarNode && rulesNode.Tag == "!!null" {
		return nil, append(errs, fail(0, "rules is empty; give at least one rule"))
	}
	if rulesNode.Kind != yaml.SequenceNode {
		return nil, append(errs, fail(rulesNode.Line, "rules must be a list of rules"))
	}
	if len(rulesNode.Content) == 0 {
		return nil, append(errs, fail(0, "rules is empty; give at least one rule"))
	}
	rules := make([]Rule, 0, len(rulesNode.Content))
	for i, n := range rulesNode.Content {
		at := ruleAt{file: file, rule: i}
		values, verrs := ruleValues(deref(n), at)
		errs = append(errs, verrs...)
		if values == nil {
			rules = append(rules, Rule{})
			continue
		}
		get := func(name string) (rawValue, bool) {
			v, ok := values[name]
			return v, ok
		}
		r, rerrs := parseRule(get, at, defaultOwner)
		errs = append(errs, rerrs...)
		rules = append(rules, r)
	}
	return rules, errs
}

// ruleValues reads the keys of one rule mapping.
func ruleValues(n *yaml.Node, at ruleAt) (map[string]rawValue, []error) {
	if n.Kind != yaml.MappingNode {
		return nil, []error{at.errorf("", n.Line, "a rule must be a mapping of rule inputs (packages, older-than, ...)")}
	}
	var errs []error
	values := map[string]rawValue{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			errs = append(errs, at.errorf("", k.Line, "keys must be input names"))
			continue
		}
		name := k.Value
		switch {
		case isActionInput(name):
			errs = append(errs, at.errorf(name, 0, "%s is an input of the action, not a key of a rule", name))
			continue
		case !slices.Contains(RuleInputs, name):
			errs = append(errs, at.errorf(name, 0, "unknown key; the keys of a rule are %s", strings.Join(RuleInputs, ", ")))
			continue
		}
		if _, dup := values[name]; dup {
			errs = append(errs, at.errorf(name, 0, "given twice"))
			continue
		}
		values[name] = rawValue{bad: true} // replaced below when usable
		switch v.Kind {
		case yaml.ScalarNode:
			if v.Tag == "!!null" {
				delete(values, name) // "key:" with no value is not given
				continue
			}
			values[name] = rawValue{s: v.Value}
		case yaml.SequenceNode:
			if !isListInput(name) {
				errs = append(errs, at.errorf(name, 0, "expects one value, not a list"))
				continue
			}
			rv := rawValue{isList: true}
			for _, item := range v.Content {
				item = deref(item)
				if item.Kind != yaml.ScalarNode {
					errs = append(errs, at.errorf(name, item.Line, "list items must be strings"))
					continue
				}
				rv.list = append(rv.list, item.Value)
			}
			values[name] = rv
		default:
			errs = append(errs, at.errorf(name, v.Line, "expects a string or a list of strings, not a mapping"))
		}
	}
	return values, errs
}

// deref follows YAML aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isActionInput reports whether name is an input of the action that is
// not a rule input: a policy file cannot set it.
func isActionInput(name string) bool {
	d, ok := LookupInput(name)
	return ok && !d.Rule
}

// yamlLine is the position go-yaml puts before its messages.
var yamlLine = regexp.MustCompile(`^yaml: (?:line \d+: )?`)

// maxSyntaxSearch bounds the lines syntaxError re-parses to place an error.
const maxSyntaxSearch = 2000

// syntaxError reports a YAML syntax error on the line where it is. go-yaml
// reports the line where the construct around the error began, counted
// from 0 (an error on line 4 of a rule's mapping reads "line 1"): the line
// is found instead as the first from which every longer prefix of the file
// fails to parse, each shorter one, ending at a line boundary, being valid
// YAML.
func syntaxError(data []byte, file string, err error) error {
	msg := yamlLine.ReplaceAllString(err.Error(), "")
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxSyntaxSearch {
		return &InputError{File: file, Rule: -1, Input: InPolicyFile, Msg: fmt.Sprintf("YAML syntax error: %v", err)}
	}
	line := len(lines)
	for line > 1 {
		var n yaml.Node
		if yaml.Unmarshal(bytes.Join(lines[:line-1], nil), &n) == nil {
			break
		}
		line--
	}
	return &InputError{File: file, Rule: -1, Input: InPolicyFile, Line: line, Msg: "YAML syntax error: " + msg}
}
