package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// dockerfile is what the image test reads from the Dockerfile: the build
// stage's go build and mkdir, the final stage's base, copy and entrypoint.
type dockerfile struct {
	buildEnv   []string // NAME=VALUE before go build, build args expanded
	buildFlags []string // between "go build" and the package
	buildOut   string   // -o
	buildPkg   string
	dirs       map[string]os.FileMode // mkdir -m MODE PATH in the build stage
	base       string                 // FROM of the final stage
	copyFrom   string                 // COPY --from=<stage> SRC DST of the final stage
	copySrc    string
	copyDst    string
	entrypoint []string
}

// parseDockerfile reads the two-stage Dockerfile of this repository. It
// refuses what it would not reproduce: a final stage with anything but
// one COPY from the build stage and an ENTRYPOINT (USER and WORKDIR are
// wrong for a docker action anyway).
func parseDockerfile(text string, targetOS, targetArch string) (*dockerfile, error) {
	text = strings.ReplaceAll(text, "\\\n", " ")
	type instr struct{ op, args string }
	var stages [][]instr
	var names []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		op, args, _ := strings.Cut(line, " ")
		op = strings.ToUpper(op)
		if op == "FROM" {
			stages = append(stages, nil)
			f := strings.Fields(args)
			name := ""
			if len(f) >= 3 && strings.EqualFold(f[len(f)-2], "AS") {
				name = f[len(f)-1]
				f = f[:len(f)-2]
			}
			names = append(names, name)
			args = f[len(f)-1] // the image, after any --platform
		}
		if len(stages) == 0 {
			return nil, fmt.Errorf("%s before the first FROM", op)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], instr{op, strings.TrimSpace(args)})
	}
	if len(stages) != 2 {
		return nil, fmt.Errorf("%d stages, want a build stage and a final stage", len(stages))
	}
	d := &dockerfile{dirs: map[string]os.FileMode{}}
	vars := map[string]string{"TARGETOS": targetOS, "TARGETARCH": targetArch}
	for _, in := range stages[0] {
		if in.op != "RUN" {
			continue
		}
		words, err := shellWords(in.args)
		if err != nil {
			return nil, fmt.Errorf("RUN %s: %w", in.args, err)
		}
		switch {
		case slices.Contains(words, "go") && slices.Contains(words, "build"):
			i := slices.Index(words, "go")
			for _, w := range words[:i] {
				name, val, ok := strings.Cut(w, "=")
				if !ok {
					return nil, fmt.Errorf("RUN go build: %q before go is not NAME=VALUE", w)
				}
				d.buildEnv = append(d.buildEnv, name+"="+os.Expand(val, func(k string) string { return vars[k] }))
			}
			rest := words[i+2:]
			if len(rest) < 3 || rest[len(rest)-3] != "-o" {
				return nil, fmt.Errorf("RUN go build: want ... -o OUT PACKAGE, got %q", rest)
			}
			d.buildFlags = rest[:len(rest)-3]
			d.buildOut, d.buildPkg = rest[len(rest)-2], rest[len(rest)-1]
		case len(words) == 4 && words[0] == "mkdir" && words[1] == "-m":
			mode, err := strconv.ParseUint(words[2], 8, 32)
			if err != nil {
				return nil, fmt.Errorf("RUN mkdir: mode %q: %w", words[2], err)
			}
			m := os.FileMode(mode & 0o777)
			if mode&0o1000 != 0 {
				m |= os.ModeSticky
			}
			d.dirs[words[3]] = m
		case words[0] == "go" && len(words) > 1 && words[1] == "mod":
		default:
			return nil, fmt.Errorf("build stage: RUN %q is not reproduced here", in.args)
		}
	}
	if d.buildOut == "" {
		return nil, errors.New("build stage has no go build")
	}
	final := stages[1]
	d.base = final[0].args
	for _, in := range final[1:] {
		switch in.op {
		case "COPY":
			f := strings.Fields(in.args)
			if d.copySrc != "" || len(f) != 3 || !strings.HasPrefix(f[0], "--from=") {
				return nil, fmt.Errorf("final stage: want one COPY --from=STAGE SRC DST, got COPY %s", in.args)
			}
			d.copyFrom, d.copySrc, d.copyDst = strings.TrimPrefix(f[0], "--from="), f[1], f[2]
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in.args), &d.entrypoint); err != nil {
				return nil, fmt.Errorf("ENTRYPOINT is not in exec form: %w", err)
			}
		default:
			return nil, fmt.Errorf("final stage: %s is not reproduced here (and USER or WORKDIR would be wrong for a docker action)", in.op)
		}
	}
	if d.copyFrom != names[0] {
		return nil, fmt.Errorf("final stage copies from %q, the build stage is %q", d.copyFrom, names[0])
	}
	return d, nil
}

// shellWords splits a RUN line as sh would for plain words and single or
// double quotes (no expansions but ${} left for the caller).
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unclosed %c", c)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '&' || c == ';' || c == '|':
			return nil, fmt.Errorf("%c: one command per RUN here", c)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func TestParseDockerfileRefuses(t *testing.T) {
	t.Parallel()
	build := "FROM golang AS build\nRUN go build -o /out/x .\n"
	tests := []struct{ name, text, err string }{
		{"USER", build + "FROM scratch\nCOPY --from=build /out/ /\nUSER 1000\nENTRYPOINT [\"/x\"]\n", "USER is not reproduced"},
		{"WORKDIR", build + "FROM scratch\nWORKDIR /app\nCOPY --from=build /out/ /\n", "WORKDIR is not reproduced"},
		{"shell entrypoint", build + "FROM scratch\nCOPY --from=build /out/ /\nENTRYPOINT /x\n", "exec form"},
		{"one stage", "FROM scratch\nCOPY a /\n", "1 stages"},
		{"two commands in a RUN", "FROM golang AS build\nRUN go build -o /out/x . && strip /out/x\nFROM scratch\n", "one command per RUN"},
		{"other RUN", "FROM golang AS build\nRUN go build -o /out/x .\nRUN apt-get install ca-certificates\nFROM scratch\n", "not reproduced"},
		{"copy from elsewhere", build + "FROM scratch\nCOPY --from=other /out/ /\n", `copies from "other"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseDockerfile(tt.text, "linux", "amd64")
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want one containing %q", err, tt.err)
			}
		})
	}
}

// layerTar writes the tree under root as the final stage's COPY puts it
// under dst: root-owned, modes kept, a fixed time (as with
// SOURCE_DATE_EPOCH=0), in name order.
func layerTar(root, dst string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = strings.TrimPrefix(path.Join(dst, filepath.ToSlash(rel)), "/")
		if info.IsDir() {
			h.Name += "/"
		}
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		h.ModTime, h.AccessTime, h.ChangeTime = time.Unix(0, 0), time.Time{}, time.Time{}
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := io.Copy(tw, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TestImageFromDockerfile builds the action's image as the Dockerfile
// describes it, without a Docker engine: the binary with the build stage's
// go build (for this machine's architecture), the build stage's mkdir, one
// layer with what the final stage copies, the entrypoint, no USER and no
// WORKDIR. It writes the image as an OCI layout, reports its size (run
// with -v to see it), then takes the binary out of the layer read back from
// the layout (not the one on disk) and runs it with --help.
func TestImageFromDockerfile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary (-short)")
	}
	arch := runtime.GOARCH
	d, err := parseDockerfile(string(repoFile(t, "Dockerfile")), "linux", arch)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	if d.base != "scratch" {
		t.Errorf("final stage FROM %s, want scratch (the CA roots are compiled in)", d.base)
	}

	// The build stage.
	stage := t.TempDir()
	inStage := func(p string) string { return filepath.Join(stage, filepath.FromSlash(p)) }
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out := inStage(d.buildOut)
	args := append(append([]string{"build"}, d.buildFlags...), "-o", out, d.buildPkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = filepath.Join("..", "..")
	// The build context has no .git (.dockerignore): no VCS stamp.
	cmd.Env = append(append(os.Environ(), "GOFLAGS=-buildvcs=false"), d.buildEnv...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	for dir, mode := range d.dirs {
		if err := os.MkdirAll(inStage(dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(inStage(dir), mode); err != nil {
			t.Fatal(err)
		}
	}

	// The final stage: one layer, the entrypoint, nothing else.
	tarBytes, err := layerTar(inStage(d.copySrc), d.copyDst)
	if err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarBytes)), nil
	}, tarball.WithCompressionLevel(gzip.DefaultCompression), tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	if img, err = mutate.AppendLayers(img, layer); err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Config.Entrypoint = d.entrypoint
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img, layout.WithPlatform(v1.Platform{OS: "linux", Architecture: arch})); err != nil {
		t.Fatal(err)
	}

	// Read the layout back, as a registry client would pull it.
	ii, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("layout holds %d manifests, want 1", len(im.Manifests))
	}
	got, err := ii.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	gotCF, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotCF.Config.Entrypoint, d.entrypoint) || gotCF.Config.User != "" || gotCF.Config.WorkingDir != "" || len(gotCF.Config.Cmd) != 0 {
		t.Errorf("config: entrypoint %q user %q workdir %q cmd %q; want entrypoint %q and nothing else",
			gotCF.Config.Entrypoint, gotCF.Config.User, gotCF.Config.WorkingDir, gotCF.Config.Cmd, d.entrypoint)
	}
	layers, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := got.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	config, err := got.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var compressed, uncompressed int64
	bin := filepath.Join(t.TempDir(), "retention")
	var found bool
	var tmpMode os.FileMode
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			t.Fatal(err)
		}
		compressed += n
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		cr := &countingReader{r: rc}
		tr := tar.NewReader(cr)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch h.Name {
			case strings.TrimPrefix(d.entrypoint[0], "/"):
				f, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, h.FileInfo().Mode().Perm())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.Copy(f, tr); err != nil {
					t.Fatal(err)
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				found = true
			case "tmp/":
				tmpMode = h.FileInfo().Mode()
			}
		}
		if _, err := io.Copy(io.Discard, cr); err != nil { // tar padding
			t.Fatal(err)
		}
		rc.Close()
		uncompressed += cr.n
	}
	if !found {
		t.Fatalf("no %s in the image's layers", d.entrypoint[0])
	}
	if !tmpMode.IsDir() || tmpMode&os.ModeSticky == 0 || tmpMode.Perm() != 0o777 {
		t.Errorf("/tmp in the layer: mode %v, want a world-writable sticky directory (plan files land there outside a runner)", tmpMode)
	}
	if len(layers) != 1 {
		t.Errorf("%d layers, want 1", len(layers))
	}
	t.Logf("image linux/%s: %d layer(s), %d bytes compressed (layers), %d bytes uncompressed (layers); manifest %d + config %d bytes",
		arch, len(layers), compressed, uncompressed, len(manifest), len(config))
	// A guard against an image that grows by a base or a toolchain.
	if uncompressed > 16<<20 {
		t.Errorf("image is %d bytes uncompressed: more than a binary", uncompressed)
	}

	// The binary from the layer: the CA roots are in it, and it runs.
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(info.Deps, func(m *debug.Module) bool { return m.Path == "golang.org/x/crypto/x509roots/fallback" }) {
		t.Error("the binary does not embed golang.org/x/crypto/x509roots/fallback: on scratch it would have no CA roots")
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	// go records no -ldflags under -trimpath: -s shows as a missing symbol table.
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Errorf("build settings %v, want CGO_ENABLED=0 and -trimpath", settings)
	}
	if ef, err := elf.Open(bin); err != nil {
		t.Error(err)
	} else {
		if ef.Section(".symtab") != nil {
			t.Error("the binary has a symbol table: built without -ldflags=-s")
		}
		ef.Close()
	}
	if fi, err := os.Stat(bin); err == nil {
		t.Logf("binary in the layer: %d bytes", fi.Size())
	}
	if runtime.GOOS != "linux" {
		t.Skipf("the image's binary is for Linux; this is %s", runtime.GOOS)
	}
	run := exec.CommandContext(ctx, bin, "--help")
	run.Env = []string{} // as in the image: no GITHUB_ACTIONS, no HOME
	b, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("%s --help: %v\n%s", d.entrypoint[0], err, b)
	}
	if !bytes.Contains(b, []byte("--keep-latest")) {
		t.Errorf("--help of the image's binary does not list --keep-latest:\n%s", b)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
