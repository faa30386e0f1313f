package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkgretention/retention/cleanup"
	"github.com/pkgretention/retention/policy"
)

// cliOptions are the command line's own flags, beside the inputs.
type cliOptions struct {
	json     bool
	planFile string
	execute  bool // demo only
	// cachePath is the demo's cache-path (the real run takes the input).
	cachePath string
}

// inputFlag is a flag.Value holding an input's raw text: validation is
// policy.Parse's and loadSettings' job, so that the command line and the
// action report the same messages.
type inputFlag struct {
	def  policy.InputDef
	in   rawInputs
	seen bool
}

func (f *inputFlag) String() string { return "" }

func (f *inputFlag) Set(v string) error {
	if f.seen {
		if !f.def.List {
			return fmt.Errorf("given twice")
		}
		// A list given several times: --packages a --packages b.
		f.in[f.def.Name] += "\n" + v
		return nil
	}
	f.seen = true
	f.in[f.def.Name] = v
	return nil
}

// IsBoolFlag lets --dry-run stand alone (and --dry-run=false be written).
func (f *inputFlag) IsBoolFlag() bool { return f.def.Bool }

// parseCLI parses the command line into the raw inputs and the command
// line's own options. demo selects the demo's flags. flag.ErrHelp means
// --help was asked for.
func parseCLI(args []string, demo bool) (rawInputs, cliOptions, error) {
	var opts cliOptions
	in := rawInputs{}
	// The token never goes on a command line: refuse it before the flag
	// package could quote its value back.
	for _, a := range args {
		if a == "--" {
			break
		}
		name := strings.TrimLeft(a, "-")
		if strings.HasPrefix(a, "-") && (name == policy.InToken || strings.HasPrefix(name, policy.InToken+"=")) {
			return nil, opts, policy.InputErrorf(policy.InToken, "not a flag; export GITHUB_TOKEN instead (a flag's value shows in the process list and the shell history)")
		}
	}

	fs := flag.NewFlagSet("retention", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&opts.json, "json", false, "")
	if demo {
		fs.BoolVar(&opts.execute, "execute", false, "")
		fs.StringVar(&opts.cachePath, policy.InCachePath, "", "")
	} else {
		fs.StringVar(&opts.planFile, "plan-file", "", "")
		for _, def := range policy.InputDefs {
			if def.Env != "" {
				continue
			}
			fs.Var(&inputFlag{def: def, in: in}, def.Name, def.Description)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, opts, err
		}
		return nil, opts, flagError(err)
	}
	if fs.NArg() > 0 {
		return nil, opts, fmt.Errorf("unexpected argument %q: write flags as --name value, and booleans as --name or --name=false", fs.Arg(0))
	}
	return in, opts, nil
}

// flagError rewords the flag package's errors to name the input the way
// the README and --help do.
func flagError(err error) error {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "flag provided but not defined: "):
		name := strings.TrimLeft(strings.TrimPrefix(msg, "flag provided but not defined: "), "-")
		return fmt.Errorf("--%s: unknown flag; run with --help to list the flags", name)
	case strings.HasPrefix(msg, "flag needs an argument: "):
		name := strings.TrimLeft(strings.TrimPrefix(msg, "flag needs an argument: "), "-")
		return fmt.Errorf("%s: needs a value (--%s VALUE)", name, name)
	case strings.HasPrefix(msg, "invalid value ") || strings.HasPrefix(msg, "invalid boolean value "):
		// "invalid value "x" for flag -name: given twice"
		if i := strings.Index(msg, " for flag -"); i >= 0 {
			rest := msg[i+len(" for flag -"):]
			name, why, _ := strings.Cut(rest, ": ")
			return fmt.Errorf("%s: %s", name, why)
		}
	}
	return err
}

// inputsFromEnv fills each input not given as a flag from INPUT_<NAME>
// in the environment, the runner's spelling (INPUT_KEEP-LATEST), so a
// script can set the inputs as an action step would; a flag wins. The
// token is read from GITHUB_TOKEN only.
func inputsFromEnv(in rawInputs, getenv func(string) string) {
	for _, def := range policy.InputDefs {
		if def.Env != "" {
			continue
		}
		if _, given := in[def.Name]; given {
			continue
		}
		if v := getenv("INPUT_" + strings.ToUpper(def.Name)); v != "" {
			in[def.Name] = v
		}
	}
}

// runCLI runs from the command line: flags named like the inputs, the token
// from GITHUB_TOKEN, a table (or JSON) on stdout, the log on stderr.
func runCLI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, d deps) int {
	in, opts, err := parseCLI(args, false)
	if errors.Is(err, flag.ErrHelp) {
		writeHelp(stdout)
		return ExitOK
	}
	if err != nil {
		errorLines(stderr, "retention: ", err)
		return ExitInvalid
	}
	inputsFromEnv(in, getenv)
	token := strings.TrimSpace(getenv("GITHUB_TOKEN"))
	stdout, stderr = redact(stdout, token), redact(stderr, token)
	in[policy.InToken] = token
	s, err := loadSettings(in, getenv, true)
	if err != nil {
		errorLines(stderr, "retention: ", err)
		fmt.Fprintln(stderr, "retention: invalid input: nothing was sent to GitHub (run with --help for the flags)")
		return ExitInvalid
	}
	code, _ := report(ctx, s, d, opts, stdout, stderr, nil)
	return code
}

// report runs the job and prints its plan: JSON or a table on stdout, the
// plan file's path on stderr. It returns the exit code and the plan (nil
// when the run could not start). log nil means a text log on stderr.
func report(ctx context.Context, s *settings, d deps, opts cliOptions, stdout, stderr io.Writer, log cleanup.Logger) (int, *planReport) {
	if log == nil {
		log = newTextLogger(stderr)
	}
	dir := os.TempDir()
	if opts.planFile != "" {
		dir = filepath.Dir(opts.planFile) // the journal goes beside the plan file
	}
	plan, runErr := runJob(ctx, s, d, log, dir)
	if plan == nil {
		fmt.Fprintf(stderr, "retention: %v\n", runErr)
		return ExitFailed, nil
	}
	code := ExitOK
	restore := s.restoreFrom != nil
	path := opts.planFile
	if path == "" {
		path = filepath.Join(dir, planFileName(startedAt(plan, d)))
	}
	if err := writePlanFile(path, plan); err != nil {
		fmt.Fprintf(stderr, "retention: %v\n", err)
		path = ""
		code = ExitFailed
	}
	if opts.json {
		if err := plan.WriteJSON(stdout); err != nil {
			fmt.Fprintf(stderr, "retention: %v\n", err)
			code = ExitFailed
		}
	} else if err := writeTable(stdout, plan, restore); err != nil {
		fmt.Fprintf(stderr, "retention: %v\n", err)
		code = ExitFailed
	}
	if path != "" {
		fmt.Fprintf(stderr, "Plan file: %s\n", path)
	}
	if note := brokenNote(plan); note != "" {
		fmt.Fprintf(stderr, "retention: warning: %s\n", note)
	}
	if note := deferredNote(plan); note != "" {
		fmt.Fprintf(stderr, "retention: warning: %s\n", note)
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "retention: the run stopped early: %v\n", runErr)
		code = ExitFailed
	}
	if planFailed(plan) {
		fmt.Fprintf(stderr, "retention: %s failed: see the errors above and the plan file\n", failedWhat(countTotals(plan, restore)))
		code = ExitFailed
	}
	return code, &planReport{plan: plan, path: path, restore: restore}
}

// planReport is what report produced.
type planReport struct {
	plan *policy.Plan
	path string
	// restore says the plan is a restore run's (restore-from).
	restore bool
}
