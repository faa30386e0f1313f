package pipenet

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"
)

func TestServe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, closeAll := Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "hello "+r.URL.Path)
		}))
		defer closeAll()
		resp, err := (&http.Client{Transport: tr}).Get("http://anywhere.test/x")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "hello /x" {
			t.Errorf("body %q", b)
		}
	})
}

// A silent peer never answers: a request ends only by its own timeout,
// which inside synctest passes at once.
func TestSilent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s Silent
		tr := &http.Transport{DialContext: s.Dial}
		defer tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://silent.test/", nil)
		start := time.Now()
		_, err := (&http.Client{Transport: tr}).Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the deadline", err)
		}
		if d := time.Since(start); d != time.Minute {
			t.Errorf("waited %s, want exactly the timeout", d)
		}
		if s.Conns() != 1 {
			t.Errorf("%d connections, want 1", s.Conns())
		}
	})
}
