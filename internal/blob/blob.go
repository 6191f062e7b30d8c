// Package blob defines how the platform keeps large immutable objects —
// recordings and other evidence — apart from its records (package store).
// One interface, two implementations: files under the data directory (the
// embedded default, package blob/file) and an S3 object store with Object
// Lock (package blob/s3). The conformance suite in package blob/blobtest
// runs against each.
//
// Objects are write-once: a key is written at most once, and what was
// written is verified against the caller's SHA-256 before it becomes
// visible. There is deliberately no Delete.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Errors callers branch on with errors.Is.
var (
	ErrNotFound = errors.New("blob: not found")
	ErrExists   = errors.New("blob: already exists")
	// ErrCorrupt means the content did not match its declared size or
	// SHA-256 (or the store failed to keep it intact); nothing usable was
	// stored.
	ErrCorrupt = errors.New("blob: content does not match its size or SHA-256")
	// ErrNoURL means the backend cannot hand out a direct URL; the caller
	// must proxy the content from Get.
	ErrNoURL  = errors.New("blob: no direct URL for this backend")
	ErrBadKey = errors.New("blob: invalid key")
	// ErrInvalid reports a bad argument other than the key: a sum that is
	// not 32 bytes, an unknown retention mode, a retention date in the
	// past, a non-positive URL lifetime.
	ErrInvalid = errors.New("blob: invalid argument")
)

// Store keeps write-once objects under slash-separated keys (see CheckKey).
// Implementations are safe for concurrent use.
type Store interface {
	// Put stores size bytes from r under key, write-once: ErrExists if
	// the key exists. The store verifies what it stored: size and SHA-256
	// must equal size and sum (sum is the caller's SHA-256 of the
	// content), else ErrCorrupt and nothing usable remains under key.
	// opts.RetainUntil non-zero applies Object Lock retention (mode
	// opts.Mode, default Compliance) where the backend supports it, and
	// is recorded and reported by Stat in any case.
	Put(ctx context.Context, key string, r io.Reader, size int64, sum []byte, opts PutOptions) (Info, error)
	// Get opens key for reading; ErrNotFound if absent. The reader of
	// both backends also implements io.Seeker (and io.ReaderAt), for
	// http.ServeContent. The caller closes it.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat describes key without reading it; ErrNotFound if absent. Info
	// carries the SHA-256 recorded when the object was stored.
	Stat(ctx context.Context, key string) (Info, error)
	// List describes the objects whose keys start with prefix, sorted by
	// key. The prefix is a plain string prefix, not a directory.
	List(ctx context.Context, prefix string) ([]Info, error)
	// SetLegalHold places (on) or lifts (off) a legal hold on key.
	SetLegalHold(ctx context.Context, key string, on bool) error
	// URL returns a short-lived URL for reading key directly from the
	// store, or ErrNoURL when the backend cannot (file) and the caller
	// must proxy.
	URL(ctx context.Context, key string, ttl time.Duration) (string, error)
	// Locking reports whether the backend enforces retention (Object
	// Lock). When false, retention and legal hold are only recorded.
	Locking() bool
}

// Mode is an Object Lock retention mode.
type Mode string

// The retention modes. Compliance cannot be shortened or lifted by anyone
// until it expires; Governance can be by specially privileged users.
const (
	Compliance Mode = "COMPLIANCE"
	Governance Mode = "GOVERNANCE"
)

// PutOptions are the optional attributes of a new object.
type PutOptions struct {
	ContentType string // default application/octet-stream
	// RetainUntil, when non-zero, retains the object until then.
	RetainUntil time.Time
	// Mode is the retention mode; default Compliance. Ignored without
	// RetainUntil.
	Mode Mode
}

// DefaultContentType is the content type of objects stored without one.
const DefaultContentType = "application/octet-stream"

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	SHA256      []byte // 32 bytes
	ContentType string
	RetainUntil time.Time // zero: not retained
	Mode        Mode      // "" when not retained
	LegalHold   bool
	Modified    time.Time
}

// Normalize checks opts against the rules every backend applies and fills
// in the defaults: the content type, and Compliance when RetainUntil is
// set without a mode. now is the current time.
func (o PutOptions) Normalize(now time.Time) (PutOptions, error) {
	if o.ContentType == "" {
		o.ContentType = DefaultContentType
	}
	if o.RetainUntil.IsZero() {
		o.Mode = ""
		return o, nil
	}
	if !o.RetainUntil.After(now) {
		return o, fmt.Errorf("%w: retain-until %s is not in the future", ErrInvalid, o.RetainUntil.Format(time.RFC3339))
	}
	switch o.Mode {
	case "":
		o.Mode = Compliance
	case Compliance, Governance:
	default:
		return o, fmt.Errorf("%w: retention mode %q", ErrInvalid, o.Mode)
	}
	// Whole seconds, as S3 keeps them; round up, never shorten.
	t := o.RetainUntil.UTC()
	if r := t.Truncate(time.Second); !r.Equal(t) {
		t = r.Add(time.Second)
	}
	o.RetainUntil = t
	return o, nil
}
