package containers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// benchCache is a cache of n image manifests of the size buildx pushes
// (one config, one layer, ~400 bytes), every digest live.
func benchCache(n int) *Cache {
	c := &Cache{entries: make(map[string]cacheEntry, n), live: make(map[string]bool, n)}
	for i := range n {
		cfg := sha256.Sum256([]byte(fmt.Sprint("config", i)))
		layer := sha256.Sum256([]byte(fmt.Sprint("layer", i)))
		raw := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}`,
			hex.EncodeToString(cfg[:]), 1000+i%500, hex.EncodeToString(layer[:]), 3_000_000+i))
		sum := sha256.Sum256(raw)
		d := "sha256:" + hex.EncodeToString(sum[:])
		c.entries[d] = cacheEntry{mediaType: types.OCIManifestSchema1, raw: raw}
		c.live[d] = true
	}
	return c
}

// BenchmarkCacheSave100k writes the cache of 100,000 versions; it reports
// the file's size.
func BenchmarkCacheSave100k(b *testing.B) {
	c := benchCache(100_000)
	c.path = filepath.Join(b.TempDir(), CacheFileName)
	b.ReportAllocs()
	var size int64
	for b.Loop() {
		var err error
		if _, size, err = c.Save(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size)/1e6, "file-MB")
	b.ReportMetric(float64(size)/100, "bytes/1000-versions")
}

// BenchmarkCacheLoad100k loads and verifies (hashes) every entry of that
// file.
func BenchmarkCacheLoad100k(b *testing.B) {
	c := benchCache(100_000)
	c.path = filepath.Join(b.TempDir(), CacheFileName)
	if _, _, err := c.Save(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		got := LoadCache(c.path, nil, nil)
		if len(got.entries) != 100_000 {
			b.Fatalf("%d entries", len(got.entries))
		}
	}
	_ = os.Remove(c.path)
}
