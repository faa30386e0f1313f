package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// actionOnlyInputs are inputs of the action that a policy file cannot set.
var actionOnlyInputs = []string{
	"dry-run", "max-deletions", "max-deletes-per-minute", "policy-file",
	"registry-url", "restore-from", "token",
}

// listInputs are the rule inputs that take a list.
func isListInput(name string) bool {
	return name == "packages" || name == "delete-tags" || name == "keep-tags"
}

// parseFile parses a policy file: a mapping with one key, rules, a list of
// mappings whose keys are rule input names. Errors name the rule by its
// index from 0: "rules[1].keep-latest: ...".
func parseFile(data []byte, defaultOwner string) ([]Rule, []error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, []error{errors.New("policy-file: the file is empty; write rules: with at least one rule")}
	}
	if err != nil {
		return nil, []error{syntaxError(data, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, []error{errors.New("policy-file: the file holds more than one YAML document; write all rules under one rules: key")}
	}
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = deref(root.Content[0])
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, []error{errors.New("policy-file: the file is empty; write rules: with at least one rule")}
	}
	if root.Kind != yaml.MappingNode {
		return nil, []error{errors.New("policy-file: the file must be a mapping with one key, rules")}
	}
	var errs []error
	var rulesNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := deref(root.Content[i]), root.Content[i+1]
		key := k.Value
		switch {
		case k.Kind != yaml.ScalarNode:
			errs = append(errs, fmt.Errorf("policy-file: line %d: keys must be names", k.Line))
		case key == "rules":
			if rulesNode != nil {
				errs = append(errs, fmt.Errorf("policy-file: line %d: rules is given twice", k.Line))
			}
			rulesNode = deref(v)
		case contains(actionOnlyInputs, key):
			errs = append(errs, fmt.Errorf("policy-file: line %d: %s is an input of the action, not a key of the policy file", k.Line, key))
		case contains(RuleInputs, key):
			errs = append(errs, fmt.Errorf("policy-file: line %d: %s belongs in a rule, in the list under rules", k.Line, key))
		default:
			errs = append(errs, fmt.Errorf("policy-file: line %d: unknown key %q; the file has one key, rules", k.Line, key))
		}
	}
	if rulesNode == nil {
		if len(errs) == 0 {
			errs = append(errs, errors.New("policy-file: no rules; write rules: with at least one rule"))
		}
		return nil, errs
	}
	if rulesNode.Kind == yaml.ScalarNode && rulesNode.Tag == "!!null" {
		return nil, append(errs, errors.New("policy-file: rules is empty; give at least one rule"))
	}
	if rulesNode.Kind != yaml.SequenceNode {
		return nil, append(errs, fmt.Errorf("policy-file: line %d: rules must be a list of rules", rulesNode.Line))
	}
	if len(rulesNode.Content) == 0 {
		return nil, append(errs, errors.New("policy-file: rules is empty; give at least one rule"))
	}
	rules := make([]Rule, 0, len(rulesNode.Content))
	for i, n := range rulesNode.Content {
		prefix := fmt.Sprintf("rules[%d]", i)
		values, verrs := ruleValues(deref(n), prefix)
		errs = append(errs, verrs...)
		if values == nil {
			rules = append(rules, Rule{})
			continue
		}
		get := func(name string) (rawValue, bool) {
			v, ok := values[name]
			return v, ok
		}
		r, rerrs := parseRule(get, prefix+".", defaultOwner)
		errs = append(errs, rerrs...)
		rules = append(rules, r)
	}
	return rules, errs
}

// ruleValues reads the keys of one rule mapping.
func ruleValues(n *yaml.Node, prefix string) (map[string]rawValue, []error) {
	if n.Kind != yaml.MappingNode {
		return nil, []error{fmt.Errorf("%s: line %d: a rule must be a mapping of rule inputs (packages, older-than, ...)", prefix, n.Line)}
	}
	var errs []error
	values := map[string]rawValue{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Errorf("%s: line %d: keys must be input names", prefix, k.Line))
			continue
		}
		name := k.Value
		switch {
		case contains(actionOnlyInputs, name):
			errs = append(errs, fmt.Errorf("%s.%s: %s is an input of the action, not a key of a rule", prefix, name, name))
			continue
		case !contains(RuleInputs, name):
			errs = append(errs, fmt.Errorf("%s.%s: unknown key; the keys of a rule are %s", prefix, name, strings.Join(RuleInputs, ", ")))
			continue
		}
		if _, dup := values[name]; dup {
			errs = append(errs, fmt.Errorf("%s.%s: given twice", prefix, name))
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
				errs = append(errs, fmt.Errorf("%s.%s: expects one value, not a list", prefix, name))
				continue
			}
			rv := rawValue{isList: true}
			for _, item := range v.Content {
				item = deref(item)
				if item.Kind != yaml.ScalarNode {
					errs = append(errs, fmt.Errorf("%s.%s: line %d: list items must be strings", prefix, name, item.Line))
					continue
				}
				rv.list = append(rv.list, item.Value)
			}
			values[name] = rv
		default:
			errs = append(errs, fmt.Errorf("%s.%s: line %d: expects a string or a list of strings, not a mapping", prefix, name, v.Line))
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

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
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
func syntaxError(data []byte, err error) error {
	msg := yamlLine.ReplaceAllString(err.Error(), "")
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxSyntaxSearch {
		return fmt.Errorf("policy-file: YAML syntax error: %v", err)
	}
	line := len(lines)
	for line > 1 {
		var n yaml.Node
		if yaml.Unmarshal(bytes.Join(lines[:line-1], nil), &n) == nil {
			break
		}
		line--
	}
	return fmt.Errorf("policy-file: line %d: YAML syntax error: %s", line, msg)
}
