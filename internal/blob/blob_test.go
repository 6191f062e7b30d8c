package blob_test

import (
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/kuayang/kuayang/internal/blob"
)

func sum(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func TestVerifier(t *testing.T) {
	for _, c := range []struct {
		name, content string
		size          int64
		sum           []byte
		ok            bool
	}{
		{"exact", "hello", 5, sum("hello"), true},
		{"empty", "", 0, sum(""), true},
		{"wrong sum", "hello", 5, sum("hellp"), false},
		{"short", "hell", 5, sum("hello"), false},
		{"long", "hello!", 5, sum("hello"), false},
		{"empty but data", "x", 0, sum(""), false},
	} {
		for _, one := range []bool{false, true} {
			var r io.Reader = strings.NewReader(c.content)
			if one {
				r = iotest.OneByteReader(r)
			}
			v, err := blob.NewVerifier(r, c.size, c.sum)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(v)
			if c.ok != (err == nil) || c.ok != v.Done() {
				t.Errorf("%s (one byte %v): err %v, Done %v", c.name, one, err, v.Done())
			}
			if !c.ok {
				if !errors.Is(err, blob.ErrCorrupt) {
					t.Errorf("%s: err %v, want ErrCorrupt", c.name, err)
				}
				// The consumer never gets the whole declared content.
				if int64(len(got)) >= c.size && c.size > 0 {
					t.Errorf("%s: read %d of %d bytes despite the mismatch", c.name, len(got), c.size)
				}
			}
		}
	}
	if _, err := blob.NewVerifier(nil, 1, sum("x")[:31]); !errors.Is(err, blob.ErrInvalid) {
		t.Errorf("NewVerifier with a short sum: %v", err)
	}
}

func TestVerifierReaderError(t *testing.T) {
	boom := errors.New("boom")
	v, _ := blob.NewVerifier(io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(boom)), 5, sum("abcde"))
	if _, err := io.ReadAll(v); !errors.Is(err, boom) || !errors.Is(v.Err(), boom) {
		t.Errorf("err %v, Err %v; want boom", err, v.Err())
	}
}

func TestNormalize(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o, err := blob.PutOptions{RetainUntil: now.Add(90*time.Minute + time.Millisecond)}.Normalize(now)
	if err != nil || o.Mode != blob.Compliance || !o.RetainUntil.Equal(now.Add(90*time.Minute+time.Second)) || o.ContentType != blob.DefaultContentType {
		t.Errorf("Normalize = %+v, %v", o, err)
	}
	o, err = blob.PutOptions{Mode: blob.Governance}.Normalize(now)
	if err != nil || o.Mode != "" {
		t.Errorf("Normalize without retention = %+v, %v; want no mode", o, err)
	}
	for _, bad := range []blob.PutOptions{{RetainUntil: now}, {RetainUntil: now.Add(time.Hour), Mode: "compliance"}} {
		if _, err := bad.Normalize(now); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("Normalize(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestCheckKey(t *testing.T) {
	for _, k := range []string{"a", "a/b/c.webm", "ünï/键", strings.Repeat("x", blob.MaxSegmentLen)} {
		if err := blob.CheckKey(k); err != nil {
			t.Errorf("CheckKey(%q) = %v", k, err)
		}
	}
	for _, k := range []string{"", "/a", "a/", "a//b", "..", "a/..", ".a", "a\tb", "a\\b", string([]byte{0xc3}),
		strings.Repeat("x", blob.MaxSegmentLen+1), strings.Repeat("x/", 256) + "x"} {
		if err := blob.CheckKey(k); !errors.Is(err, blob.ErrBadKey) {
			t.Errorf("CheckKey(%q) = %v, want ErrBadKey", k, err)
		}
	}
}
