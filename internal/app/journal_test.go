package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/policy"
)

// childEnv, set in the environment of a re-executed test binary, makes it
// run the program (Main, as the action) instead of the tests.
const childEnv = "RETENTION_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(Main(context.Background(), nil, os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestKilledRunRestoredFromJournal runs the action as a separate process
// against the fakes, SIGKILLs it while it deletes (after 3 DELETEs were
// answered, and a 4th was carried out by GitHub but its answer held back),
// and restores from the journal it left: exactly the 4 deleted versions
// come back. Without the journal, nothing on disk names them (the plan
// file is written at the end).
func TestKilledRunRestoredFromJournal(t *testing.T) {
	now := time.Now()
	gh := fakegh.New(fakegh.WithToken(testToken))
	gh.AddOrg("acme")
	gh.AddPackage("acme", "npm", "widgets", "public")
	var ids []int64
	for i := range 12 {
		at := now.Add(-time.Duration(200-i) * 24 * time.Hour)
		v := gh.AddVersion("acme", "npm", "widgets", fakegh.Version{Name: fmt.Sprintf("1.%d.0", i), CreatedAt: at, UpdatedAt: at})
		ids = append(ids, v.ID)
	}
	srv := newCountingServer(t, gh)

	const answered = 3
	var (
		mu      sync.Mutex
		deletes int
		held    = make(chan struct{}) // closed when the 4th DELETE arrives
		killed  = make(chan struct{}) // closed once the process is dead
	)
	for _, id := range ids {
		path := "/orgs/acme/packages/npm/widgets/versions/" + strconv.FormatInt(id, 10)
		gh.Intercept("DELETE", path, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			mu.Lock()
			deletes++
			n := deletes
			mu.Unlock()
			if n <= answered {
				next.ServeHTTP(w, r)
				return
			}
			if n == answered+1 {
				// GitHub deletes the version, but the answer never
				// reaches the process: it is killed first.
				next.ServeHTTP(httptest.NewRecorder(), r)
				close(held)
			}
			<-killed // never answered: the process dies waiting
			http.Error(w, "killed", http.StatusServiceUnavailable)
		})
	}

	r := newRunner(t, srv.URL, map[string]string{
		"packages":               "widgets",
		"package-type":           "npm",
		"keep-latest":            "2",
		"older-than":             "30d",
		"max-deletes-per-minute": "1000",
	})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	for k, v := range r.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = &r.stdout, &r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-held:
	case err := <-done:
		close(killed)
		t.Fatalf("the run ended before its 4th DELETE (%v):\n%s%s", err, r.stdout.String(), r.stderr.String())
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		close(killed)
		t.Fatal("no 4th DELETE within a minute")
	}
	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	<-done
	close(killed)

	deleted := gh.Deleted("acme", "npm", "widgets")
	if len(deleted) != answered+1 {
		t.Fatalf("%d versions deleted before the kill, want %d", len(deleted), answered+1)
	}
	if plans, _ := filepath.Glob(filepath.Join(r.temp, "package-retention-plan-*.json")); len(plans) != 0 {
		t.Fatalf("a killed run wrote a plan file: %v", plans)
	}
	journals, _ := filepath.Glob(filepath.Join(r.temp, "package-retention-*"))
	if len(journals) != 1 || !strings.HasPrefix(filepath.Base(journals[0]), "package-retention-journal-") || !strings.HasSuffix(journals[0], ".jsonl") {
		t.Fatalf("files under RUNNER_TEMP matching the upload glob package-retention-*: %v, want the journal alone", journals)
	}

	// Undo with restore-from given the journal, as the undo workflow does.
	for _, id := range ids {
		gh.Intercept("DELETE", "/orgs/acme/packages/npm/widgets/versions/"+strconv.FormatInt(id, 10), nil)
	}
	gh.ResetLog()
	u := newRunner(t, srv.URL, map[string]string{"restore-from": journals[0]})
	u.run(t)
	if u.code != ExitOK {
		t.Fatalf("restore-from the journal: exit %d\n%s%s", u.code, u.stdoutText, u.stderrText)
	}
	if got := gh.CountRoute("POST /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}/restore"); got != answered+1 {
		t.Errorf("%d restore requests, want %d (one per deleted version)", got, answered+1)
	}
	if n := len(gh.Deleted("acme", "npm", "widgets")); n != 0 {
		t.Errorf("%d versions still deleted after restore-from the journal", n)
	}
	if got := len(gh.Active("acme", "npm", "widgets")); got != len(ids) {
		t.Errorf("%d active versions after the restore, want %d", got, len(ids))
	}
	restored := readPlan(t, u.planPath)
	var names, want []string
	for _, pp := range restored.Packages {
		for _, v := range pp.Versions {
			if v.Result == policy.ResultRestored {
				names = append(names, v.Name)
			}
		}
	}
	for _, v := range deleted {
		want = append(want, v.Name)
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("restored %v, want exactly the deleted %v", names, want)
	}
}
