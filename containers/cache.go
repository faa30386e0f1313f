package containers

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/pkgretention/retention/internal/fileown"
	"github.com/pkgretention/retention/policy"
)

// CacheFileName is the name of the cache file inside a cache-path that is
// a folder. The description of the cache-path input names it too; a test
// keeps them equal.
const CacheFileName = "manifests.json.gz"

// cacheFormat is the version of the cache file's layout; a file of another
// version is a cold start.
const cacheFormat = 1

// Cache holds manifests across runs, keyed by digest, as the registry
// served them (bytes and media type). A manifest's content never changes
// under its digest, so an entry whose bytes hash to its digest says what a
// read would say: an entry that does not is dropped when the cache is
// loaded and the manifest is read again. A nil *Cache caches nothing.
//
// It is safe for concurrent use.
type Cache struct {
	path string

	mu      sync.Mutex
	entries map[string]cacheEntry // digest -> manifest
	live    map[string]bool       // digests listed in this run's packages

	// Counters of this run.
	hits, stored atomic.Int64
	rejected     int
}

type cacheEntry struct {
	mediaType types.MediaType
	raw       []byte
}

// cacheFile is the JSON inside the gzip file.
type cacheFile struct {
	Format  int              `json:"format"`
	Entries []cacheFileEntry `json:"entries"`
}

type cacheFileEntry struct {
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	// Manifest is the manifest's bytes, stored as a string: manifests are
	// UTF-8 JSON, which compresses far better than base64. Bytes that are
	// not valid UTF-8 are not stored.
	Manifest string `json:"manifest"`
}

// CacheStats says what the cache did in one run.
type CacheStats struct {
	// Loaded is the number of entries loaded and verified.
	Loaded int
	// Hits is the number of manifests served from the cache instead of
	// the registry.
	Hits int
	// Rejected is the number of entries dropped on load because their
	// bytes did not hash to their digest (read again when needed).
	Rejected int
	// Stored is the number of manifests read from the registry this run
	// and added to the cache.
	Stored int
}

// CachePath is the file a cache-path names: the path itself, or
// CacheFileName inside it when it is a folder (existing, or written with
// a trailing slash).
func CachePath(p string) string {
	if p == "" {
		return ""
	}
	if os.IsPathSeparator(p[len(p)-1]) {
		return filepath.Join(p, CacheFileName)
	}
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return filepath.Join(p, CacheFileName)
	}
	return p
}

// LoadCache reads the cache at cache-path p (see CachePath). A missing,
// empty, unreadable or corrupt file is a cold start, reported through
// notef, never an error; an entry whose bytes do not hash to its digest is
// dropped, with one warning for all of them.
func LoadCache(p string, notef, warnf func(format string, args ...any)) *Cache {
	c := &Cache{path: CachePath(p), entries: map[string]cacheEntry{}, live: map[string]bool{}}
	say := func(f func(string, ...any), format string, args ...any) {
		if f != nil {
			f(format, args...)
		}
	}
	cf, err := readCacheFile(c.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		say(notef, "manifest cache %s: none yet, every manifest is read from the registry (cold start)", c.path)
		return c
	case err != nil:
		say(notef, "manifest cache %s: unreadable (%v), every manifest is read from the registry (cold start)", c.path, err)
		return c
	}
	for _, e := range cf.Entries {
		raw := []byte(e.Manifest)
		if !digestMatches(e.Digest, raw) || !mediaTypeFits(types.MediaType(e.MediaType), raw) {
			c.rejected++
			continue
		}
		c.entries[e.Digest] = cacheEntry{mediaType: types.MediaType(e.MediaType), raw: raw}
	}
	if c.rejected > 0 {
		say(warnf, "manifest cache %s: %d %s whose bytes do not match their digest or media type dropped; those manifests are read from the registry again", c.path, c.rejected, plural(c.rejected, "entry", "entries"))
	}
	say(notef, "manifest cache %s: %d %s loaded", c.path, len(c.entries), plural(len(c.entries), "manifest", "manifests"))
	return c
}

func readCacheFile(path string) (*cacheFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		return nil, errors.New("empty file")
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	var cf cacheFile
	if err := json.NewDecoder(zr).Decode(&cf); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, err
	}
	if cf.Format != cacheFormat {
		return nil, fmt.Errorf("format %d, this version reads %d", cf.Format, cacheFormat)
	}
	return &cf, nil
}

// mediaTypeFits reports whether the stored media type mt (the registry's
// Content-Type when the manifest was read) says what the bytes say: an
// index is an index, and a declared mediaType field is mt. The digest
// covers only the bytes, and parse believes mt: an index stored as an
// image would list no children, and expose its platforms to deletion.
func mediaTypeFits(mt types.MediaType, raw []byte) bool {
	var m struct {
		MediaType types.MediaType  `json:"mediaType"`
		Manifests *json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return false
	}
	if m.MediaType != "" {
		return m.MediaType == mt
	}
	return mt.IsIndex() == (m.Manifests != nil)
}

// digestMatches reports whether raw hashes to digest (sha256 only).
func digestMatches(digest string, raw []byte) bool {
	const prefix = "sha256:"
	if len(digest) != len(prefix)+64 || digest[:len(prefix)] != prefix {
		return false
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]) == digest[len(prefix):]
}

// get returns the manifest of digest, if cached; it counts a hit.
func (c *Cache) get(digest string) (cacheEntry, bool) {
	if c == nil {
		return cacheEntry{}, false
	}
	c.mu.Lock()
	e, ok := c.entries[digest]
	c.mu.Unlock()
	if ok {
		c.hits.Add(1)
	}
	return e, ok
}

// peek returns the manifest of digest, if cached, without counting a hit.
func (c *Cache) peek(digest string) (cacheEntry, bool) {
	if c == nil {
		return cacheEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[digest]
	return e, ok
}

// has reports whether digest is cached, without counting a hit.
func (c *Cache) has(digest string) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[digest]
	return ok
}

// put stores a manifest read from the registry, if its bytes hash to its
// digest and can be stored.
func (c *Cache) put(digest string, mt types.MediaType, raw []byte) {
	if c == nil || !digestMatches(digest, raw) || !utf8.Valid(raw) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[digest]; !ok {
		c.stored.Add(1)
	}
	c.entries[digest] = cacheEntry{mediaType: mt, raw: raw}
}

// markLive records the versions listed in a package this run (their
// names are digests): Save keeps only the entries of live digests.
func (c *Cache) markLive(versions []policy.Version) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range versions {
		c.live[versions[i].Name] = true
	}
}

// Stats returns what the cache did so far in this run.
func (c *Cache) Stats() CacheStats {
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{
		Loaded:   len(c.entries) - int(c.stored.Load()),
		Hits:     int(c.hits.Load()),
		Rejected: c.rejected,
		Stored:   int(c.stored.Load()),
	}
}

// Path is the cache file.
func (c *Cache) Path() string {
	if c == nil {
		return ""
	}
	return c.path
}

// Save writes the entries of the digests listed this run to the cache
// file, atomically (a temporary file renamed over it), creating its
// folder. Entries of digests no longer listed are dropped. It returns the
// number of entries written and the file's size.
func (c *Cache) Save() (entries int, size int64, err error) {
	if c == nil {
		return 0, 0, nil
	}
	c.mu.Lock()
	cf := cacheFile{Format: cacheFormat, Entries: make([]cacheFileEntry, 0, len(c.live))}
	for d, e := range c.entries {
		if c.live[d] {
			cf.Entries = append(cf.Entries, cacheFileEntry{Digest: d, MediaType: string(e.mediaType), Manifest: string(e.raw)})
		}
	}
	c.mu.Unlock()
	sort.Slice(cf.Entries, func(i, j int) bool { return cf.Entries[i].Digest < cf.Entries[j].Digest })

	dir := filepath.Dir(c.path)
	if err := fileown.MkdirAll(dir); err != nil {
		return 0, 0, fmt.Errorf("save manifest cache: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".manifests-*.tmp")
	if err != nil {
		return 0, 0, fmt.Errorf("save manifest cache: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	zw, err := gzip.NewWriterLevel(tmp, gzip.BestSpeed)
	if err != nil {
		return 0, 0, fmt.Errorf("save manifest cache: %w", err)
	}
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&cf); err != nil {
		return 0, 0, fmt.Errorf("save manifest cache: %w", err)
	}
	if err := zw.Close(); err != nil {
		return 0, 0, fmt.Errorf("save manifest cache: %w", err)
	}
	fi, err := tmp.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("save manifest cache: %w", err)
	}
	// Readable by others: a docker action runs as root, and the step that
	// saves the cache (actions/cache/save's tar) runs as the runner's user.
	// CreateTemp's 0600 would leave it unreadable there.
	if err := tmp.Chmod(0o644); err != nil {
		return 0, 0, fmt.Errorf("save manifest cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, 0, fmt.Errorf("save manifest cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		return 0, 0, fmt.Errorf("save manifest cache: %w", err)
	}
	if err := fileown.Adopt(c.path); err != nil {
		return 0, 0, fmt.Errorf("save manifest cache: %w", err)
	}
	return len(cf.Entries), fi.Size(), nil
}
