package blob

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of keys, in bytes. Segments are limited so that a key is a valid
// path on common file systems (255-byte names) with room for a suffix.
const (
	MaxKeyLen     = 512
	MaxSegmentLen = 200
)

// CheckKey reports whether key is a valid object key, wrapping ErrBadKey
// if not. A key is a relative slash-separated path of at most MaxKeyLen
// bytes of printable UTF-8, with segments of at most MaxSegmentLen bytes,
// no empty segment (so no leading,
// trailing or double slash) and no segment starting with a dot ("." and
// ".." included: backends keep their own files under such names).
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("%w: length %d, want 1 to %d bytes", ErrBadKey, len(key), MaxKeyLen)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("%w: %q is not UTF-8", ErrBadKey, key)
	}
	for _, r := range key {
		if !unicode.IsPrint(r) || r == '\\' {
			return fmt.Errorf("%w: %q has a non-printable character or backslash", ErrBadKey, key)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return fmt.Errorf("%w: %q has an empty segment", ErrBadKey, key)
		}
		if len(seg) > MaxSegmentLen {
			return fmt.Errorf("%w: a segment of %q is longer than %d bytes", ErrBadKey, key, MaxSegmentLen)
		}
		if seg[0] == '.' {
			return fmt.Errorf("%w: %q has a segment starting with a dot", ErrBadKey, key)
		}
	}
	return nil
}
