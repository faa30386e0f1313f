package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/pkgretention/retention/cleanup"
	"github.com/pkgretention/retention/internal/fileown"
	"github.com/pkgretention/retention/policy"
)

// journalFileName is the journal's name for a run started at t. It starts
// with package-retention- like the plan file, so the README's upload step
// keeps both.
func journalFileName(t time.Time) string {
	return "package-retention-journal-" + t.UTC().Format("20060102T150405Z") + ".jsonl"
}

// fileJournal is cleanup.Journal on a file: two JSON lines per DELETE
// (policy.JournalEntry), one before it is sent and one with GitHub's
// answer, each synced to disk before the run goes on, so that a run killed
// at any moment (SIGKILL, an out-of-memory kill, a lost runner) leaves a
// file restore-from accepts, listing every version it deleted.
type fileJournal struct {
	dir       string
	log       cleanup.Logger
	f         *os.File
	path      string
	startedAt time.Time
}

var _ cleanup.Journal = (*fileJournal)(nil)

// Begin creates the journal in dir, named after the plan's start.
func (j *fileJournal) Begin(plan *policy.Plan) error {
	if err := fileown.MkdirAll(j.dir); err != nil {
		return fmt.Errorf("create the journal's directory: %w", err)
	}
	j.startedAt = plan.StartedAt
	j.path = filepath.Join(j.dir, journalFileName(plan.StartedAt))
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("create the journal: %w", err)
	}
	if err := fileown.Adopt(j.path); err != nil {
		f.Close()
		return fmt.Errorf("create the journal: %w", err)
	}
	j.f = f
	j.log.Infof("Journal of deletions (restore-from undoes them if the run is killed): %s", j.path)
	return nil
}

// Record appends v's line and syncs it to disk.
func (j *fileJournal) Record(pp *policy.PackagePlan, v *policy.VersionPlan) error {
	b, err := json.Marshal(policy.NewJournalEntry(j.startedAt, pp, v))
	if err != nil {
		return fmt.Errorf("encode the journal line of version %d: %w", v.ID, err)
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", j.path, err)
	}
	return nil
}

// Close closes the journal if Begin opened it.
func (j *fileJournal) Close() error {
	if j == nil || j.f == nil {
		return nil
	}
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", j.path, err)
	}
	return nil
}

// isJournal reports whether b, a file given to restore-from, is a journal:
// its first JSON value is a journal line (it has a "version"), not a plan.
func isJournal(b []byte) bool {
	var first map[string]json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&first); err != nil {
		return false
	}
	_, ok := first["version"]
	return ok && first["packages"] == nil
}

// readJournal decodes a journal into the plan it stands for. A last line
// cut short (the run was killed while writing it) is skipped: it was an
// answer, whose DELETE's line before it is complete, or a DELETE not sent.
func readJournal(path string, b []byte) (*policy.Plan, error) {
	var entries []policy.JournalEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var e policy.JournalEntry
		if err := json.Unmarshal(text, &e); err != nil {
			if !bytes.HasSuffix(b, []byte("\n")) && !hasMoreLines(sc) {
				break // the last line, cut short by the kill
			}
			return nil, fmt.Errorf("%q is not a journal: line %d does not decode: %w", path, line, err)
		}
		if e.Owner == "" || e.Name == "" || e.Version.ID == 0 {
			return nil, fmt.Errorf("%q is not a journal: line %d names no owner, package or version id", path, line)
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	p := policy.PlanFromJournal(entries)
	n := 0
	for _, pp := range p.Packages {
		n += len(pp.Versions)
	}
	if n == 0 {
		return nil, fmt.Errorf("%q is a journal that lists no deletion: there is nothing to restore", path)
	}
	return p, nil
}

// hasMoreLines reports whether the scanner has another line; it is called
// only to tell a cut last line from a bad line in the middle.
func hasMoreLines(sc *bufio.Scanner) bool { return sc.Scan() }
