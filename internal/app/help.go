package app

import (
	"fmt"
	"io"
	"strings"

	"github.com/pkgretention/retention/ghapi"
	"github.com/pkgretention/retention/policy"
)

// helpIntro opens --help.
const helpIntro = `retention enforces retention policies on GitHub Packages: it lists the
versions of the packages a policy covers, plans which to delete, keep or
protect (newest first, with the reason), and deletes them, or with
--dry-run only reports the plan. The flags are the GitHub Action's inputs;
each can also be set as INPUT_<NAME> in the environment, as on a runner
(INPUT_KEEP-LATEST=10), and a flag wins over it.

Usage:
  retention [flags]              run the policy (token from GITHUB_TOKEN)
  retention demo [--execute]     run against a built-in sample organisation,
                                 offline, no token; --execute really deletes
                                 (in the sample)
`

// writeHelp prints --help: every input as a flag with its meaning, from
// the same table the action reads its inputs by.
func writeHelp(w io.Writer) {
	var b strings.Builder
	b.WriteString(helpIntro)
	section := func(title string, pick func(policy.InputDef) bool) {
		fmt.Fprintf(&b, "\n%s:\n", title)
		for _, def := range policy.InputDefs {
			if def.Env != "" || !pick(def) {
				continue
			}
			flagLine := "--" + def.Name
			if def.Bool {
				flagLine += "[=false]"
			} else if def.Arg != "" {
				flagLine += " " + def.Arg
			}
			helpEntry(&b, flagLine, def.Description, def.Default)
		}
	}
	section("Rule flags (one rule; --policy-file for several)", func(d policy.InputDef) bool { return d.Rule })
	section("Run flags", func(d policy.InputDef) bool { return !d.Rule })
	b.WriteString("\nOutput flags:\n")
	helpEntry(&b, "--json", "Print the plan as JSON (the plan file's format) instead of a table.", "")
	helpEntry(&b, "--plan-file PATH", "Write the plan file to PATH. Default: package-retention-plan-<start>.json in the temporary directory.", "")
	helpEntry(&b, "--help", "Print this help.", "")
	b.WriteString("\nEnvironment:\n")
	for _, def := range policy.InputDefs {
		if def.Env != "" {
			helpEntry(&b, def.Env, "The "+def.Name+" input. "+def.Description, "")
		}
	}
	helpEntry(&b, "GITHUB_API_URL", "API base URL, used as it is. Default: "+ghapi.DefaultBaseURL+" (GitHub Enterprise Server: https://HOST/api/v3).", "")
	helpEntry(&b, "GITHUB_REPOSITORY_OWNER", "Owner used when --owner is not given.", "")
	helpEntry(&b, "GITHUB_REPOSITORY", "owner/name of the repository: without --packages (and --policy-file), the rule covers the package named like it, lower-cased.", "")
	b.WriteString("\nExit status: 0 every planned deletion ended deleted or protected, 1 something\nfailed, 2 invalid input (nothing sent).\n")
	io.WriteString(w, b.String())
}

// helpEntry prints one flag and its meaning, wrapped under it.
func helpEntry(b *strings.Builder, flagLine, desc, def string) {
	desc = strings.ReplaceAll(desc, "`", "")
	if def != "" && !strings.Contains(desc, "Default:") && !strings.HasPrefix(def, "${{") {
		desc += " Default: " + def + "."
	}
	fmt.Fprintf(b, "  %s\n", flagLine)
	for _, line := range wrap(desc, 72) {
		fmt.Fprintf(b, "        %s\n", line)
	}
}

// wrap breaks s into lines of at most width characters, at spaces.
func wrap(s string, width int) []string {
	var lines []string
	var cur strings.Builder
	for _, word := range strings.Fields(s) {
		if cur.Len() > 0 && cur.Len()+1+len(word) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(word)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}
