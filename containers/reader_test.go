package containers

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestNewReaderRegistryURL(t *testing.T) {
	for _, c := range []struct {
		name, url string
		wantHost  string
		wantErr   bool
	}{
		{"default", "", "ghcr.io", false},
		{"ghcr", "https://ghcr.io", "ghcr.io", false},
		{"trailing slash", "https://ghcr.io/", "ghcr.io", false},
		{"GHES", "https://containers.ghe.example.com", "containers.ghe.example.com", false},
		{"loopback http", "http://127.0.0.1:5000", "127.0.0.1:5000", false},
		{"path", "https://ghcr.io/v2", "", true},
		{"no scheme", "ghcr.io", "", true},
		{"other scheme", "ftp://ghcr.io", "", true},
		{"credentials in URL", "https://user:pw@ghcr.io", "", true},
		{"query", "https://ghcr.io?x=1", "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReader(Options{RegistryURL: c.url})
			if c.wantErr {
				if err == nil || !strings.Contains(err.Error(), "registry-url") {
					t.Errorf("error %v, want one naming registry-url", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.registry.RegistryStr(); got != c.wantHost {
				t.Errorf("host %q, want %q", got, c.wantHost)
			}
		})
	}
}

func TestRepository(t *testing.T) {
	for _, c := range []struct{ owner, pkg, want string }{
		{"acme", "app", "acme/app"},
		{"Acme-Corp", "App", "acme-corp/app"},
		{"acme", "team/app", "acme/team/app"},
		{"acme", "/team/app/", "acme/team/app"},
	} {
		if got := Repository(c.owner, c.pkg); got != c.want {
			t.Errorf("Repository(%q, %q) = %q, want %q", c.owner, c.pkg, got, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	index := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:` + strings.Repeat("a", 64) + `"},` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:` + strings.Repeat("b", 64) + `","platform":{"os":"unknown","architecture":"unknown"}}]}`
	withSubject := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:` + strings.Repeat("c", 64) + `"},"layers":[],` +
		`"subject":{"mediaType":"application/vnd.oci.image.index.v1+json","size":9,"digest":"sha256:` + strings.Repeat("d", 64) + `"}}`
	for _, c := range []struct {
		name     string
		mt       types.MediaType
		raw      string
		children []string
		subject  string
		wantErr  bool
	}{
		{"index", types.OCIImageIndex, index, []string{"sha256:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("b", 64)}, "", false},
		{"index served as octet-stream", "application/octet-stream", index, []string{"sha256:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("b", 64)}, "", false},
		{"manifest with subject", types.OCIManifestSchema1, withSubject, nil, "sha256:" + strings.Repeat("d", 64), false},
		{"manifest without type header", "", withSubject, nil, "sha256:" + strings.Repeat("d", 64), false},
		{"schema 1", types.DockerManifestSchema1Signed, `{"schemaVersion":1}`, nil, "", false},
		{"unknown type", "text/plain", `hello`, nil, "", true},
		{"broken index", types.OCIImageIndex, `{"manifests":[{"digest":"nope"}]}`, nil, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := parse(c.mt, []byte(c.raw))
			if (err != nil) != c.wantErr {
				t.Fatalf("error %v, want error %v", err, c.wantErr)
			}
			if c.wantErr {
				return
			}
			if !slices.Equal(res.children, c.children) || res.subject != c.subject || res.size != int64(len(c.raw)) {
				t.Errorf("parse = %+v", res)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want failure
	}{
		{"500", &transport.Error{StatusCode: 500}, failTransient},
		{"502 wrapped", fmt.Errorf("get: %w", &transport.Error{StatusCode: 502}), failTransient},
		{"429", &transport.Error{StatusCode: 429}, failTransient},
		{"401", &transport.Error{StatusCode: 401}, failAuth},
		{"403", &transport.Error{StatusCode: 403}, failAuth},
		{"404 manifest", &transport.Error{StatusCode: 404, Errors: []transport.Diagnostic{{Code: transport.ManifestUnknownErrorCode}}}, failNotFound},
		{"404 repository", &transport.Error{StatusCode: 404, Errors: []transport.Diagnostic{{Code: transport.NameUnknownErrorCode}}}, failNoRepo},
		{"400", &transport.Error{StatusCode: 400}, failPermanent},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), failTransient},
		{"unexpected EOF", io.ErrUnexpectedEOF, failTransient},
		{"digest mismatch", errors.New("manifest digest: does not match"), failPermanent},
		{"connection refused", &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, failTransient},
		{"unknown host", &url.Error{Op: "Get", URL: "http://x", Err: &net.DNSError{Name: "x", IsNotFound: true}}, failPermanent},
		{"DNS timeout", &net.DNSError{Name: "x", IsTimeout: true}, failTransient},
		{"bad certificate", &url.Error{Op: "Get", URL: "https://x", Err: &tls.CertificateVerificationError{Err: errors.New("unknown authority")}}, failPermanent},
	} {
		if got := classify(c.err); got != c.want {
			t.Errorf("%s: classify = %d, want %d", c.name, got, c.want)
		}
	}
}
