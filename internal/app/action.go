package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/pkgretention/retention/policy"
)

// runAction runs as the GitHub Action: inputs from INPUT_<NAME>, outputs to
// GITHUB_OUTPUT, the summary to GITHUB_STEP_SUMMARY, the plan file under
// RUNNER_TEMP, logs as workflow commands on stdout.
func runAction(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, d deps) int {
	gha, token := newAction(getenv, stdout)
	if len(args) > 0 {
		gha.Errorf("unexpected arguments %q: on a runner the action reads its inputs (INPUT_*), not arguments", args)
		return ExitInvalid
	}
	in := rawInputs{}
	for _, def := range policy.InputDefs {
		in[def.Name] = gha.GetInput(def.Name)
	}
	in[policy.InToken] = token
	s, err := loadSettings(in, getenv, true)
	if err != nil {
		for _, line := range splitErr(err) {
			gha.Errorf("%s", line)
		}
		gha.Errorf("invalid input: nothing was sent to GitHub; fix the inputs above and run again")
		return ExitInvalid
	}

	dir := getenv("RUNNER_TEMP")
	if dir == "" {
		dir = os.TempDir()
	}
	plan, runErr := runJob(ctx, s, d, gha, dir)
	if plan == nil {
		gha.Errorf("%v", runErr)
		return ExitFailed
	}

	code := ExitOK
	planPath := filepath.Join(dir, planFileName(startedAt(plan, d)))
	if err := writePlanFile(planPath, plan); err != nil {
		gha.Errorf("%v", err)
		planPath = ""
		code = ExitFailed
	}
	restore := s.restoreFrom != nil
	t := reportAction(gha, getenv, plan, restore, planPath, s.cacheLine)
	if runErr != nil {
		gha.Errorf("the run stopped early: %v", runErr)
		code = ExitFailed
	}
	if planFailed(plan) {
		gha.Errorf("%s failed: see the errors above and the plan file", failedWhat(t))
		code = ExitFailed
	}
	return code
}

// newAction returns the action's view of the runner and the token. The
// token is masked before anything else is printed, and every later write
// is scrubbed of it in case an error ever quotes it.
func newAction(getenv func(string) string, stdout io.Writer) (*githubactions.Action, string) {
	token := strings.TrimSpace(getenv("INPUT_TOKEN"))
	if token == "" {
		token = strings.TrimSpace(getenv("GITHUB_TOKEN"))
	}
	if token != "" {
		githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stdout)).AddMask(token)
	}
	stdout = redact(stdout, token) // the action writes everything to stdout
	return githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stdout)), token
}

// reportAction sets the outputs, writes the step summary and logs the
// totals, the plan file and any deferred work. It returns the totals.
func reportAction(gha *githubactions.Action, getenv func(string) string, plan *policy.Plan, restore bool, planPath, cacheLine string) totals {
	t := countTotals(plan, restore)
	outputs := [][2]string{
		{outDeleted, strconv.Itoa(t.Deleted)},
		{outKept, strconv.Itoa(t.Kept)},
		{outProtected, strconv.Itoa(t.Protected)},
		{outFailed, strconv.Itoa(t.Failed)},
		{outDeferred, strconv.Itoa(t.Deferred)},
		{outBroken, strconv.Itoa(t.Broken)},
		{outPlan, planPath},
	}
	if err := fileCommand(getenv, "GITHUB_OUTPUT", func() {
		for _, o := range outputs {
			gha.SetOutput(o[0], o[1])
		}
	}); err != nil {
		gha.Warningf("outputs not set: %v", err)
	}
	if err := fileCommand(getenv, "GITHUB_STEP_SUMMARY", func() {
		summary := renderSummary(plan, restore, planPath, defaultSummaryLimits)
		if cacheLine != "" {
			summary += "\n" + cacheLine + "\n"
		}
		gha.AddStepSummary(summary)
	}); err != nil {
		gha.Warningf("step summary not written: %v", err)
	}
	gha.Infof("%s", totalsLine(plan, restore))
	if planPath != "" {
		gha.Infof("Plan file: %s", planPath)
	}
	if note := brokenNote(plan); note != "" {
		// Not a failure: the damage was there before this run.
		gha.Warningf("%s", note)
	}
	if note := deferredNote(plan); note != "" {
		// Not a failure: the next run lists them again.
		gha.Warningf("%s", note)
	}
	return t
}

// startedAt is the plan's start time, or now if the plan has none.
func startedAt(p *policy.Plan, d deps) time.Time {
	if !p.StartedAt.IsZero() {
		return p.StartedAt
	}
	return d.clock.Now()
}

// failedWhat says what failed: "2 versions and 1 package", "1 name or
// pattern" (not resolved to packages).
func failedWhat(t totals) string {
	var parts []string
	if n := t.Failed - t.FailedPackages; n > 0 {
		parts = append(parts, plural(n, "version"))
	}
	if n := t.FailedPackages - t.Unresolved; n > 0 {
		parts = append(parts, plural(n, "package"))
	}
	if t.Unresolved > 0 {
		parts = append(parts, pick(t.Unresolved, "1 name or pattern", thousands(t.Unresolved)+" names or patterns"))
	}
	if len(parts) == 0 {
		return "something"
	}
	return strings.Join(parts, " and ")
}

// fileCommand runs f, which writes to the runner file named by the
// environment variable env, turning a missing variable or a write failure
// (go-githubactions panics on those) into an error.
func fileCommand(getenv func(string) string, env string, f func()) (err error) {
	if getenv(env) == "" {
		return fmt.Errorf("%s is not set", env)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", env, r)
		}
	}()
	f()
	return nil
}
