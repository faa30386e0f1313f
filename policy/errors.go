package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// InputError is one problem with one input. Parse returns every problem it
// finds as an *InputError, several joined with errors.Join; errors.As
// reaches each.
type InputError struct {
	// File is the path of the policy file, set when the problem is in it
	// (Input is then policy-file, or the input of one of its rules).
	File string
	// Rule is the index, counted from 0, of the rule of the policy file
	// the problem is in; -1 when it is not in a rule of a file.
	Rule int
	// Input names the input (or the key of a rule) the problem is about:
	// "older-than", "policy-file", "keep-lastest"; empty when it is about
	// a whole rule.
	Input string
	// Line is the line of the policy file, 0 when unknown or not in a file.
	Line int
	// Msg says what is wrong and what to do about it.
	Msg string
}

// Error renders the problem the one way every caller shows it:
// "older-than: ...", "policy-file retention.yml: line 3: ...", or for a
// rule of a file "policy-file retention.yml: rules[1].keep-latest: ...".
func (e *InputError) Error() string {
	var b strings.Builder
	switch {
	case e.Rule >= 0:
		if e.File != "" {
			b.WriteString(InPolicyFile + " " + e.File + ": ")
		}
		b.WriteString("rules[" + strconv.Itoa(e.Rule) + "]")
		if e.Input != "" {
			b.WriteString("." + e.Input)
		}
	case e.File != "":
		b.WriteString(InPolicyFile + " " + e.File) // the file as a whole
	default:
		b.WriteString(e.Input)
	}
	b.WriteString(": ")
	if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// InputErrorf returns the *InputError of an input outside any rule of a
// policy file, its message formatted as by fmt.Sprintf.
func InputErrorf(input, format string, args ...any) error {
	return &InputError{Rule: -1, Input: input, Msg: fmt.Sprintf(format, args...)}
}

// ruleAt says where a rule comes from, for its errors: the inputs of the
// action (rule -1), or rule i of a policy file.
type ruleAt struct {
	file string
	rule int
}

// errorf returns the *InputError of input (or of the whole rule when input
// is empty) at line (0: none).
func (at ruleAt) errorf(input string, line int, format string, args ...any) error {
	return &InputError{File: at.file, Rule: at.rule, Input: input, Line: line, Msg: fmt.Sprintf(format, args...)}
}
