package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadJournal(t *testing.T) {
	entry := func(id, name, result string) string {
		return `{"started_at":"2026-11-20T03:17:00Z","owner":"acme","type":"container","name":"app","visibility":"private","version":{"id":` + id + `,"name":"` + name + `","tags":[],"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","decision":"delete","reason":"selected","result":"` + result + `"}}` + "\n"
	}
	// line is a DELETE sent and answered "deleted".
	line := func(id, name string) string { return entry(id, name, "") + entry(id, name, "deleted") }
	tests := []struct {
		name    string
		body    string
		want    []int64 // ids restored, in order
		wantErr string
	}{
		{name: "two deletions", body: line("7", "sha256:a") + line("8", "sha256:b"), want: []int64{7, 8}},
		{name: "a line repeated once", body: line("7", "sha256:a") + line("7", "sha256:a"), want: []int64{7}},
		{name: "a DELETE sent, killed before its answer", body: line("7", "sha256:a") + entry("8", "sha256:b", ""), want: []int64{7, 8}},
		{name: "answers that deleted nothing", body: line("7", "sha256:a") + entry("8", "sha256:b", "") + entry("8", "sha256:b", "protected") +
			entry("9", "sha256:c", "") + entry("9", "sha256:c", "failed:boom") + entry("10", "sha256:d", "") + entry("10", "sha256:d", "already-gone"), want: []int64{7}},
		{name: "the last line cut short by a kill", body: line("7", "sha256:a") + `{"started_at":"2026-11-20T03:17:00Z","own`, want: []int64{7}},
		{name: "a bad line in the middle", body: line("7", "sha256:a") + "{not json\n" + line("8", "sha256:b"), wantErr: "line 3 does not decode"},
		{name: "a line without a version id", body: line("7", "sha256:a") + line("0", "sha256:b"), wantErr: "line 3 names no owner, package or version id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "package-retention-journal-20261120T031700Z.jsonl")
			if err := os.WriteFile(path, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := readPlanFile(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, pp := range p.Packages {
				for _, v := range pp.Versions {
					if v.Result != "deleted" {
						t.Errorf("version %d: result %q, want deleted", v.ID, v.Result)
					}
					got = append(got, v.ID)
				}
			}
			if !slices.Equal(got, tt.want) || len(p.Packages) != 1 || p.StartedAt.IsZero() {
				t.Errorf("restores %v in %d packages, want %v in 1", got, len(p.Packages), tt.want)
			}
		})
	}
}
