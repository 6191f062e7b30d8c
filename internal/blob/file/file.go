// Package file keeps blob objects as files under a directory: the embedded
// default, <data-dir>/objects, for a single node.
//
// The object with key k is the read-only file <root>/k; its record (size,
// SHA-256, content type, retention, legal hold) is <root>/.meta/k.json.
// The record is written last and is what makes an object visible: an
// object file without one (a Put in progress, or cut short by a crash
// between its two renames) is not found, and still blocks its key.
//
// A file system cannot enforce retention against its administrator, so
// Locking is false; retention and legal hold are recorded and reported.
// Since keys are paths, a key cannot also be a directory of other keys:
// with "a" stored, Put "a/b" fails with blob.ErrExists, and conversely.
package file

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kuayang/kuayang/internal/blob"
)

const (
	metaDir    = ".meta"
	metaSuffix = ".json"
	tmpPattern = ".tmp-*" // no key segment starts with a dot
)

// Store is a blob.Store on a directory. It is safe for concurrent use
// within one process; two processes must not share a directory.
type Store struct {
	root string
	mu   sync.Mutex // serializes record rewrites (SetLegalHold)
	now  func() time.Time
}

var _ blob.Store = (*Store)(nil)

// Open returns the store rooted at dir, creating the directory if needed.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, metaDir), 0o750); err != nil {
		return nil, fmt.Errorf("blob/file: %w", err)
	}
	return &Store{root: dir, now: time.Now}, nil
}

// record is the JSON sidecar of an object.
type record struct {
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"` // hex
	ContentType string    `json:"content_type"`
	RetainUntil time.Time `json:"retain_until,omitzero"`
	Mode        blob.Mode `json:"mode,omitempty"`
	LegalHold   bool      `json:"legal_hold,omitempty"`
	Modified    time.Time `json:"modified"`
}

func (s *Store) objPath(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}

func (s *Store) metaPath(key string) string {
	return filepath.Join(s.root, metaDir, filepath.FromSlash(key)+metaSuffix)
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, sum []byte, opts blob.PutOptions) (blob.Info, error) {
	if err := blob.CheckKey(key); err != nil {
		return blob.Info{}, err
	}
	v, err := blob.NewVerifier(r, size, sum)
	if err != nil {
		return blob.Info{}, err
	}
	now := s.now()
	if opts, err = opts.Normalize(now); err != nil {
		return blob.Info{}, err
	}
	if _, err := os.Lstat(s.objPath(key)); err == nil {
		return blob.Info{}, fmt.Errorf("%w: %s", blob.ErrExists, key)
	}
	rec := record{
		Size: size, SHA256: hex.EncodeToString(sum), ContentType: opts.ContentType,
		RetainUntil: opts.RetainUntil, Mode: opts.Mode, Modified: now.UTC(),
	}
	if err := s.write(ctx, key, v, rec); err != nil {
		return blob.Info{}, err
	}
	return rec.info(key), nil
}

// write stores the verified content and then its record.
func (s *Store) write(ctx context.Context, key string, v *blob.Verifier, rec record) error {
	obj, meta := s.objPath(key), s.metaPath(key)
	tmp, err := s.writeTemp(ctx, filepath.Dir(obj), v)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("blob/file: %w", err)
	}
	metaTmp, err := writeFile(filepath.Dir(meta), b)
	if err != nil {
		return err
	}
	defer os.Remove(metaTmp) // a no-op once renamed
	// The link is the claim: it fails if anything is already at obj, so
	// of concurrent Puts of one key exactly one gets past it.
	if err := os.Link(tmp, obj); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", blob.ErrExists, key)
		}
		return fmt.Errorf("blob/file: %w", err)
	}
	if err := syncDir(filepath.Dir(obj)); err != nil {
		return err
	}
	if err := os.Rename(metaTmp, meta); err != nil {
		return fmt.Errorf("blob/file: %w", err)
	}
	return syncDir(filepath.Dir(meta))
}

// writeTemp copies the content to a new read-only temporary file in dir,
// synced, and returns its path. The Verifier fails the copy on a size or
// SHA-256 mismatch.
func (s *Store) writeTemp(ctx context.Context, dir string, v *blob.Verifier) (path string, err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			return "", fmt.Errorf("%w: a key is in the way of %s", blob.ErrExists, dir)
		}
		return "", fmt.Errorf("blob/file: %w", err)
	}
	f, err := os.CreateTemp(dir, tmpPattern)
	if err != nil {
		return "", fmt.Errorf("blob/file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := io.Copy(f, ctxReader{ctx, v}); err != nil {
		return "", fmt.Errorf("blob/file: %w", err)
	}
	if !v.Done() {
		return "", fmt.Errorf("blob/file: content not fully read: %w", blob.ErrCorrupt)
	}
	if err := f.Chmod(0o444); err != nil {
		return "", fmt.Errorf("blob/file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("blob/file: %w", err)
	}
	return f.Name(), f.Close()
}

// writeFile writes b to a new synced read-only temporary file in dir and
// returns its path.
func writeFile(dir string, b []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("blob/file: %w", err)
	}
	f, err := os.CreateTemp(dir, tmpPattern)
	if err != nil {
		return "", fmt.Errorf("blob/file: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o444)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("blob/file: %w", err)
	}
	return f.Name(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blob/file: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("blob/file: sync %s: %w", dir, err)
	}
	return nil
}

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Get implements blob.Store. The reader is an *os.File.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, blob.Info, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, blob.Info{}, err
	}
	f, err := os.Open(s.objPath(key))
	if err != nil {
		return nil, blob.Info{}, fmt.Errorf("blob/file: %w", err)
	}
	return f, info, nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	if err := blob.CheckKey(key); err != nil {
		return blob.Info{}, err
	}
	rec, err := s.read(key)
	if err != nil {
		return blob.Info{}, err
	}
	return rec.info(key), nil
}

func (s *Store) read(key string) (record, error) {
	b, err := os.ReadFile(s.metaPath(key))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) {
		return record{}, fmt.Errorf("%w: %s", blob.ErrNotFound, key)
	}
	if err != nil {
		return record{}, fmt.Errorf("blob/file: %w", err)
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return record{}, fmt.Errorf("blob/file: record of %s: %w", key, err)
	}
	return rec, nil
}

func (r record) info(key string) blob.Info {
	sum, _ := hex.DecodeString(r.SHA256)
	return blob.Info{
		Key: key, Size: r.Size, SHA256: sum, ContentType: r.ContentType,
		RetainUntil: r.RetainUntil, Mode: r.Mode, LegalHold: r.LegalHold, Modified: r.Modified,
	}
}

// List implements blob.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]blob.Info, error) {
	base := filepath.Join(s.root, metaDir)
	start := base
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = filepath.Join(base, filepath.FromSlash(prefix[:i]))
	}
	var out []blob.Info
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != base {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), metaSuffix) {
			return nil
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		key := strings.TrimSuffix(filepath.ToSlash(rel), metaSuffix)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		rec, err := s.read(key)
		if err != nil {
			return err
		}
		out = append(out, rec.info(key))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("blob/file: list %q: %w", prefix, err)
	}
	slices.SortFunc(out, func(a, b blob.Info) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// SetLegalHold implements blob.Store: it rewrites the object's record.
func (s *Store) SetLegalHold(ctx context.Context, key string, on bool) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.read(key)
	if err != nil {
		return err
	}
	if rec.LegalHold == on {
		return nil
	}
	rec.LegalHold = on
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("blob/file: %w", err)
	}
	meta := s.metaPath(key)
	tmp, err := writeFile(filepath.Dir(meta), b)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, meta); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("blob/file: %w", err)
	}
	return syncDir(filepath.Dir(meta))
}

// URL implements blob.Store: files have no URL of their own.
func (s *Store) URL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := blob.CheckKey(key); err != nil {
		return "", err
	}
	return "", blob.ErrNoURL
}

// Locking implements blob.Store: false, retention is only recorded.
func (s *Store) Locking() bool { return false }
