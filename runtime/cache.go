package runtime

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ntedsl/ntedsl/nodes"
)

// Cache stores node values by content: blobs named by the digest of their bytes, and
// records mapping a cache key to the digest it produced. A record is written only after
// its blob is in place, both by writing a temporary file and renaming it, so a reader (in
// this or another process) sees either a whole entry or none. Every file carries a
// checksum; a damaged entry is reported once, removed and recomputed.
type Cache struct {
	dir      string // "" keeps the cache in memory only
	registry *nodes.Registry

	mu   sync.Mutex
	mem  map[string]memEntry // by key
	recs map[string]Record   // records read from disk (plan reads them, run reuses them)
	dirs map[string]bool     // shard directories known to exist
	warn func(string)
}

type memEntry struct {
	rec   Record
	value nodes.Value
}

// Record is one cache entry: a key, the pre-image it was hashed from, and the value's type
// and content digest.
type Record struct {
	Key      string          `json:"key"`
	Preimage json.RawMessage `json:"preimage"`
	Type     string          `json:"type"`
	Digest   string          `json:"digest"`
	Size     int             `json:"size"`
	Addr     string          `json:"addr"`    // the instance that produced it (informational)
	Created  string          `json:"created"` // RFC 3339 (informational)
	// Inline holds the value itself when it is small, so that a cheap node costs one file
	// instead of two; larger values live in a blob.
	Inline []byte `json:"inline,omitempty"`
}

// inlineLimit is the largest value stored inside its record.
const inlineLimit = 8 << 10

// OpenCache opens (creating if needed) a cache in dir; dir "" gives a memory-only cache.
func OpenCache(dir string, registry *nodes.Registry) (*Cache, error) {
	c := &Cache{dir: dir, registry: registry, mem: map[string]memEntry{}, recs: map[string]Record{}, dirs: map[string]bool{}, warn: func(string) {}}
	if dir != "" {
		for _, sub := range []string{"blobs", "keys", "addr"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
				return nil, fmt.Errorf("cannot create the cache directory: %w", err)
			}
		}
	}
	return c, nil
}

// Dir returns the cache directory ("" for a memory-only cache).
func (c *Cache) Dir() string { return c.dir }

// Digest is the content digest of a value's encoding.
func Digest(typeName string, data []byte) string {
	h := sha256.New()
	h.Write([]byte(typeName))
	h.Write([]byte{0})
	h.Write(data)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func shard(root, sub, name string) string {
	name = strings.TrimPrefix(name, "sha256:")
	return filepath.Join(root, sub, name[:2], name)
}

// Lookup returns the cached value for key. A damaged entry is reported through warn,
// removed, and treated as a miss.
func (c *Cache) Lookup(key string) (nodes.Value, Record, bool) {
	c.mu.Lock()
	e, ok := c.mem[key]
	c.mu.Unlock()
	if ok {
		return e.value, e.rec, true
	}
	if c.dir == "" {
		return nil, Record{}, false
	}
	rec, err := c.readRecord(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Record{}, false
	}
	if err != nil {
		c.warn(fmt.Sprintf("cache entry %s is damaged (%v); removing it and recomputing", short(key), err))
		c.forget(key)
		return nil, Record{}, false
	}
	data, err := rec.Inline, error(nil)
	if data == nil {
		data, err = c.readBlob(rec.Digest, rec.Type)
	} else if Digest(rec.Type, data) != rec.Digest {
		err = errors.New("inline value checksum mismatch")
	}
	if err == nil {
		var v nodes.Value
		v, err = c.registry.DecodeValue(rec.Type, data)
		if err == nil {
			c.mu.Lock()
			c.mem[key] = memEntry{rec: rec, value: v}
			c.mu.Unlock()
			return v, rec, true
		}
	}
	c.warn(fmt.Sprintf("cache entry %s (%s) is damaged (%v); removing it and recomputing", short(key), rec.Addr, err))
	os.Remove(shard(c.dir, "blobs", rec.Digest))
	c.forget(key)
	return nil, Record{}, false
}

// forget removes a damaged record from disk and memory.
func (c *Cache) forget(key string) {
	os.Remove(shard(c.dir, "keys", key))
	c.mu.Lock()
	delete(c.recs, key)
	c.mu.Unlock()
}

// Has reports whether key has an intact-looking entry, without decoding it; plan uses it.
func (c *Cache) Has(key string) (Record, bool) {
	c.mu.Lock()
	e, ok := c.mem[key]
	c.mu.Unlock()
	if ok {
		return e.rec, true
	}
	if c.dir == "" {
		return Record{}, false
	}
	rec, err := c.readRecord(key)
	if err != nil {
		return Record{}, false
	}
	if rec.Inline == nil {
		if _, err := os.Stat(shard(c.dir, "blobs", rec.Digest)); err != nil {
			return Record{}, false
		}
	}
	return rec, true
}

// Put stores a value under key; data is the value's encoding and digest its Digest.
func (c *Cache) Put(rec Record, v nodes.Value, data []byte) error {
	c.mu.Lock()
	c.mem[rec.Key] = memEntry{rec: rec, value: v}
	c.mu.Unlock()
	if c.dir == "" {
		return nil
	}
	if len(data) <= inlineLimit {
		rec.Inline = data
	} else if bp := shard(c.dir, "blobs", rec.Digest); !exists(bp) {
		var b bytes.Buffer
		fmt.Fprintf(&b, "ntedsl-blob/1\n%s\n%d\n", rec.Type, len(data))
		b.Write(data)
		if err := c.writeAtomic(bp, b.Bytes()); err != nil {
			return err
		}
	}
	rj, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(rj)
	return c.writeAtomic(shard(c.dir, "keys", rec.Key), append(append(rj, '\n'), hex.EncodeToString(sum[:])+"\n"...))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// writeAtomic is writeAtomic with the shard directories created once per cache object.
func (c *Cache) writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	c.mu.Lock()
	made := c.dirs[dir]
	c.mu.Unlock()
	if !made {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		c.mu.Lock()
		c.dirs[dir] = true
		c.mu.Unlock()
	}
	return writeFileAtomic(path, data)
}

func (c *Cache) readRecord(key string) (Record, error) {
	c.mu.Lock()
	rec, ok := c.recs[key]
	c.mu.Unlock()
	if ok {
		return rec, nil
	}
	rec, err := c.readRecordFile(key)
	if err == nil {
		c.mu.Lock()
		c.recs[key] = rec
		c.mu.Unlock()
	}
	return rec, err
}

func (c *Cache) readRecordFile(key string) (Record, error) {
	raw, err := os.ReadFile(shard(c.dir, "keys", key))
	if err != nil {
		return Record{}, err
	}
	body, sumLine, ok := bytes.Cut(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n"))
	if !ok {
		return Record{}, errors.New("truncated record")
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != string(sumLine) {
		return Record{}, errors.New("record checksum mismatch")
	}
	var rec Record
	if err := json.Unmarshal(body, &rec); err != nil {
		return Record{}, err
	}
	if rec.Key != key || !strings.HasPrefix(rec.Digest, "sha256:") || len(rec.Digest) != 71 {
		return Record{}, errors.New("record does not match its key")
	}
	return rec, nil
}

func (c *Cache) readBlob(digest, typeName string) ([]byte, error) {
	raw, err := os.ReadFile(shard(c.dir, "blobs", digest))
	if err != nil {
		return nil, err
	}
	rest, ok := bytes.CutPrefix(raw, []byte("ntedsl-blob/1\n"))
	if !ok {
		return nil, errors.New("not a cache blob")
	}
	ty, rest, ok1 := bytes.Cut(rest, []byte("\n"))
	n, data, ok2 := bytes.Cut(rest, []byte("\n"))
	size, err := strconv.Atoi(string(n))
	if !ok1 || !ok2 || err != nil || size != len(data) {
		return nil, errors.New("truncated blob")
	}
	if string(ty) != typeName || Digest(typeName, data) != digest {
		return nil, errors.New("blob checksum mismatch")
	}
	return data, nil
}

// writeAtomic writes data to path through a temporary file and a rename, so readers see
// the old content or the new, never a mix.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	// CreateTemp makes the file private (0600); results and cache entries are meant to be
	// read by colleagues and tools like any file a program writes, so give them 0644.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	// No fsync: a crash may lose an entry or leave a damaged one, but never a wrong one,
	// since every file is checksummed and a damaged entry is recomputed. Syncing each of
	// thousands of small entries would dominate the run time of cheap nodes.
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func short(key string) string {
	key = strings.TrimPrefix(key, "sha256:")
	if len(key) > 12 {
		return key[:12]
	}
	return key
}

// addrRecord remembers, per instance address, the last pre-image and input digests, so
// plan can say why an instance will run. One file per study holds all of them.
type addrRecord struct {
	Key      string            `json:"key"`
	Preimage json.RawMessage   `json:"preimage"`
	Inputs   map[string]string `json:"inputs"`
}

func (c *Cache) addrPath(study string) string {
	h := sha256.Sum256([]byte(study))
	return filepath.Join(c.dir, "addr", hex.EncodeToString(h[:])[:32]+".json")
}

// lastRuns reads the last-run records of a study (empty when there are none).
func (c *Cache) lastRuns(study string) map[string]addrRecord {
	out := map[string]addrRecord{}
	if c.dir == "" {
		return out
	}
	raw, err := os.ReadFile(c.addrPath(study))
	if err == nil {
		_ = json.Unmarshal(raw, &out)
	}
	return out
}

// rememberRuns merges the given last-run records into the study's file.
func (c *Cache) rememberRuns(study string, runs map[string]addrRecord) error {
	if c.dir == "" || len(runs) == 0 {
		return nil
	}
	all := c.lastRuns(study)
	for k, v := range runs {
		all[k] = v
	}
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	return writeAtomic(c.addrPath(study), b)
}

// Entries lists the records of the on-disk cache, newest first.
func (c *Cache) Entries() ([]Record, error) {
	if c.dir == "" {
		return nil, nil
	}
	var out []Record
	err := filepath.WalkDir(filepath.Join(c.dir, "keys"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return err
		}
		rec, rerr := c.readRecordFile("sha256:" + d.Name())
		if rerr == nil {
			out = append(out, rec)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Created != out[j].Created {
			return out[i].Created > out[j].Created
		}
		return out[i].Key < out[j].Key
	})
	return out, err
}

// GCStats reports what a garbage collection removed.
type GCStats struct {
	Records, Blobs, Temps int
	Bytes                 int64
}

// GC removes records older than maxAge (when > 0), blobs no record refers to (once they
// are an hour old), damaged records, and temporary files left behind by interrupted writes more than an hour ago.
func (c *Cache) GC(maxAge time.Duration, now time.Time) (GCStats, error) {
	var st GCStats
	if c.dir == "" {
		return st, nil
	}
	live := map[string]bool{}
	stale := now.Add(-time.Hour)
	err := filepath.WalkDir(filepath.Join(c.dir, "keys"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, _ := d.Info()
		if strings.HasPrefix(d.Name(), ".tmp-") {
			if info != nil && info.ModTime().Before(stale) {
				st.Temps++
				os.Remove(p)
			}
			return nil
		}
		rec, rerr := c.readRecordFile("sha256:" + d.Name())
		expired := false
		if rerr == nil && maxAge > 0 {
			if t, perr := time.Parse(time.RFC3339, rec.Created); perr == nil && now.Sub(t) > maxAge {
				expired = true
			}
		}
		if rerr != nil || expired {
			st.Records++
			os.Remove(p)
			return nil
		}
		if rec.Inline == nil {
			live[rec.Digest] = true
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	err = filepath.WalkDir(filepath.Join(c.dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, _ := d.Info()
		if strings.HasPrefix(d.Name(), ".tmp-") {
			if info != nil && info.ModTime().Before(stale) {
				st.Temps++
				os.Remove(p)
			}
			return nil
		}
		// An unreferenced blob younger than an hour may belong to a run in another process
		// that has not yet written its record.
		if !live["sha256:"+d.Name()] && info != nil && info.ModTime().Before(stale) {
			st.Blobs++
			st.Bytes += info.Size()
			os.Remove(p)
		}
		return nil
	})
	return st, err
}

// Clear removes the whole on-disk cache.
func (c *Cache) Clear() error {
	c.mu.Lock()
	c.mem = map[string]memEntry{}
	c.recs = map[string]Record{}
	c.dirs = map[string]bool{}
	c.mu.Unlock()
	if c.dir == "" {
		return nil
	}
	for _, sub := range []string{"blobs", "keys", "addr"} {
		if err := os.RemoveAll(filepath.Join(c.dir, sub)); err != nil {
			return err
		}
	}
	return nil
}
