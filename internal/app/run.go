package app

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkgretention/retention/cleanup"
	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/ghapi"
	"github.com/pkgretention/retention/internal/fileown"
	"github.com/pkgretention/retention/policy"
)

// runJob builds the API client and the registry reader and runs the
// policy, or restores the plan named by restore-from. It returns the plan
// with every result; the error is set only when the run could not go on
// (the plan, when not nil, says how far it got). A run that deletes
// journals each deletion in journalDir (see fileJournal).
func runJob(ctx context.Context, s *settings, d deps, log cleanup.Logger, journalDir string) (*policy.Plan, error) {
	api, err := ghapi.NewGitHub(ghapi.GitHubOptions{
		BaseURL:   s.apiURL,
		Token:     s.token,
		UserAgent: userAgent,
		Transport: d.transport,
		Clock:     d.clock,
		Notify:    func(msg string) { log.Infof("%s", msg) },
	})
	if err != nil {
		return nil, fmt.Errorf("build the GitHub client: %w", err)
	}
	cfg := cleanup.Config{
		Policy:           s.policy,
		API:              api,
		Clock:            d.clock,
		DeletesPerMinute: s.deletesPerMinute,
		Verify:           s.verify,
		Repair:           s.repair,
		Log:              log,
		ProgressEvery:    d.progressEvery,
	}
	if s.restoreFrom != nil {
		return cleanup.Restore(ctx, cfg, s.restoreFrom)
	}
	var cache *containers.Cache
	if needsRegistry(s.policy) {
		if s.cachePath != "" {
			cache = containers.LoadCache(s.cachePath, log.Infof, log.Warningf)
		}
		reader, err := containers.NewReader(containers.Options{
			RegistryURL: s.registryURL,
			Token:       s.token,
			Transport:   d.transport,
			Clock:       d.clock,
			Logf:        log.Warningf,
			Cache:       cache,
		})
		if err != nil {
			return nil, err
		}
		cfg.Containers = reader.ForRun(log.Infof)
	}
	if !s.policy.DryRun {
		j := &fileJournal{dir: journalDir, log: log}
		cfg.Journal = j
		defer func() {
			if err := j.Close(); err != nil {
				log.Warningf("%v", err)
			}
		}()
	}
	plan, err := cleanup.Run(ctx, cfg)
	if cache != nil {
		// Saved after a failed run too: every entry hashes to its digest,
		// so what was read is right whatever happened after.
		s.cacheLine = saveCache(cache, log)
	}
	return plan, err
}

// saveCache writes the manifest cache, logs what it did this run, and
// returns that line for the summary.
func saveCache(cache *containers.Cache, log cleanup.Logger) string {
	st := cache.Stats()
	line := fmt.Sprintf("Manifest cache: %d %s read from the registry, %d served from the cache, %d rejected (bytes not matching their digest or media type)",
		st.Stored, pluralWord(st.Stored, "manifest", "manifests"), st.Hits, st.Rejected)
	n, size, err := cache.Save()
	if err != nil {
		log.Warningf("%v: the next run reads those manifests again", err)
		return line + "; not saved."
	}
	line += fmt.Sprintf("; %d %s saved to %s (%d bytes).", n, pluralWord(n, "entry", "entries"), cache.Path(), size)
	log.Infof("%s", line)
	return line
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// needsRegistry reports whether any rule covers container packages.
func needsRegistry(p *policy.Policy) bool {
	for _, r := range p.Rules {
		if r.PackageType == policy.Container {
			return true
		}
	}
	return false
}

// userAgent names the action in every request.
const userAgent = "pkgretention/retention"

// planFileName is the plan file's name for a run started at t.
func planFileName(t time.Time) string {
	return "package-retention-plan-" + t.UTC().Format("20060102T150405Z") + ".json"
}

// writePlanFile writes the plan file (policy.Plan.WriteJSON) to path,
// created or replaced, streaming it through a buffer.
func writePlanFile(path string, p *policy.Plan) (err error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := fileown.MkdirAll(dir); err != nil {
			return fmt.Errorf("write plan file: %w", err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	if err := fileown.Adopt(path); err != nil {
		f.Close()
		return fmt.Errorf("write plan file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write plan file: %w", cerr)
		}
	}()
	w := bufio.NewWriterSize(f, 64<<10)
	if err := p.WriteJSON(w); err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	return nil
}

// splitErr flattens joined errors into one message per line.
func splitErr(err error) []string {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var lines []string
		for _, e := range j.Unwrap() {
			lines = append(lines, splitErr(e)...)
		}
		return lines
	}
	return strings.Split(err.Error(), "\n")
}
