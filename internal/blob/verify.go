package blob

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Verifier reads exactly size bytes from a reader while hashing them, and
// fails the read that would deliver the last byte unless the content was
// exactly size bytes with SHA-256 sum. A consumer that uploads what it
// reads therefore never receives a complete body that does not match:
// the upload fails before it can be committed.
type Verifier struct {
	r    io.Reader
	left int64
	sum  []byte
	h    hash.Hash
	err  error // sticky
}

// NewVerifier returns a Verifier of size bytes of r against sum, or an
// error wrapping ErrInvalid if sum is not 32 bytes or size is negative.
func NewVerifier(r io.Reader, size int64, sum []byte) (*Verifier, error) {
	if len(sum) != sha256.Size {
		return nil, fmt.Errorf("%w: sum is %d bytes, want %d", ErrInvalid, len(sum), sha256.Size)
	}
	if size < 0 {
		return nil, fmt.Errorf("%w: negative size %d", ErrInvalid, size)
	}
	return &Verifier{r: r, left: size, sum: sum, h: sha256.New()}, nil
}

// Read implements io.Reader. Errors other than the underlying reader's
// wrap ErrCorrupt.
func (v *Verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.left == 0 {
		// Only reached when size is 0, or after the last byte was
		// delivered and checked.
		if err := v.finish(); err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > v.left {
		p = p[:v.left]
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.left -= int64(n)
	switch {
	case v.left == 0:
		if ferr := v.finish(); ferr != nil {
			return 0, ferr // withhold the last bytes
		}
		return n, nil
	case errors.Is(err, io.EOF):
		v.err = fmt.Errorf("%w: content ended %d bytes short", ErrCorrupt, v.left)
		return 0, v.err
	case err != nil:
		v.err = err
	}
	return n, err
}

// finish checks that nothing follows the declared size and that the sum
// matches; it runs once, when the last byte has been read.
func (v *Verifier) finish() error {
	if v.h == nil {
		return nil // already finished successfully
	}
	var probe [1]byte
	n, err := io.ReadFull(v.r, probe[:])
	switch {
	case n > 0:
		v.err = fmt.Errorf("%w: content is longer than its declared size", ErrCorrupt)
	case !errors.Is(err, io.EOF):
		v.err = fmt.Errorf("blob: reading content: %w", err)
	case !bytes.Equal(v.h.Sum(nil), v.sum):
		v.err = fmt.Errorf("%w: SHA-256 mismatch", ErrCorrupt)
	}
	v.h = nil
	return v.err
}

// Done reports whether the whole content was read and matched.
func (v *Verifier) Done() bool { return v.left == 0 && v.h == nil && v.err == nil }

// Err returns the error that stopped reading, if any.
func (v *Verifier) Err() error { return v.err }
