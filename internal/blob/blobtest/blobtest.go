// Package blobtest is the conformance suite every blob.Store passes.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/blob"
)

// Run runs the suite; open returns a new, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Empty", testEmpty},
		{"Missing", testMissing},
		{"WriteOnce", testWriteOnce},
		{"WrongSum", testWrongSum},
		{"ShortReader", testShortReader},
		{"LongReader", testLongReader},
		{"ReaderError", testReaderError},
		{"Canceled", testCanceled},
		{"BadArguments", testBadArguments},
		{"List", testList},
		{"BadKeys", testBadKeys},
		{"LegalHold", testLegalHold},
		{"Retention", testRetention},
		{"ConcurrentPut", testConcurrentPut},
		{"Large", testLarge},
		{"URL", testURL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// put stores content under key or fails the test.
func put(t *testing.T, s blob.Store, key string, content []byte, opts blob.PutOptions) blob.Info {
	t.Helper()
	info, err := s.Put(ctxT(t), key, bytes.NewReader(content), int64(len(content)), sum(content), opts)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

// get reads key back or fails the test.
func get(t *testing.T, s blob.Store, key string) ([]byte, blob.Info) {
	t.Helper()
	rc, info, err := s.Get(ctxT(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	return b, info
}

// checkInfo compares the parts of an Info that every backend reports.
func checkInfo(t *testing.T, what string, got blob.Info, key string, content []byte, ctype string) {
	t.Helper()
	if got.Key != key || got.Size != int64(len(content)) || !bytes.Equal(got.SHA256, sum(content)) || got.ContentType != ctype {
		t.Errorf("%s = {Key %q Size %d SHA256 %x ContentType %q}, want {%q %d %x %q}",
			what, got.Key, got.Size, got.SHA256, got.ContentType, key, len(content), sum(content), ctype)
	}
	if got.Modified.IsZero() || time.Since(got.Modified) > time.Hour || time.Until(got.Modified) > time.Minute {
		t.Errorf("%s.Modified = %v, want about now", what, got.Modified)
	}
}

// absent checks that key is not found.
func absent(t *testing.T, s blob.Store, key string) {
	t.Helper()
	if info, err := s.Stat(ctxT(t), key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat(%q) = %+v, %v; want ErrNotFound", key, info, err)
	}
}

func testRoundTrip(t *testing.T, s blob.Store) {
	key := "cases/c1/sessions/s1/recording-1.webm"
	content := []byte("not really a webm, but evidence all the same")
	info := put(t, s, key, content, blob.PutOptions{ContentType: "video/webm"})
	checkInfo(t, "Put", info, key, content, "video/webm")
	st, err := s.Stat(ctxT(t), key)
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, "Stat", st, key, content, "video/webm")
	if !st.RetainUntil.IsZero() || st.Mode != "" || st.LegalHold {
		t.Errorf("Stat = %+v, want no retention nor legal hold", st)
	}
	got, gi := get(t, s, key)
	if !bytes.Equal(got, content) {
		t.Errorf("Get = %q, want %q", got, content)
	}
	checkInfo(t, "Get", gi, key, content, "video/webm")

	put(t, s, "plain", content, blob.PutOptions{})
	st, err = s.Stat(ctxT(t), "plain")
	if err != nil || st.ContentType != blob.DefaultContentType {
		t.Errorf("Stat(plain) = %+v, %v; want content type %s", st, err, blob.DefaultContentType)
	}
}

func testEmpty(t *testing.T, s blob.Store) {
	put(t, s, "empty", nil, blob.PutOptions{})
	got, info := get(t, s, "empty")
	if len(got) != 0 {
		t.Errorf("Get = %q, want empty", got)
	}
	checkInfo(t, "Get", info, "empty", nil, blob.DefaultContentType)
}

func testMissing(t *testing.T, s blob.Store) {
	absent(t, s, "no/such")
	if _, _, err := s.Get(ctxT(t), "no/such"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get = %v, want ErrNotFound", err)
	}
	if err := s.SetLegalHold(ctxT(t), "no/such", true); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("SetLegalHold = %v, want ErrNotFound", err)
	}
}

func testWriteOnce(t *testing.T, s blob.Store) {
	first, second := []byte("first"), []byte("second, longer")
	put(t, s, "k", first, blob.PutOptions{})
	_, err := s.Put(ctxT(t), "k", bytes.NewReader(second), int64(len(second)), sum(second), blob.PutOptions{})
	if !errors.Is(err, blob.ErrExists) {
		t.Fatalf("second Put = %v, want ErrExists", err)
	}
	if got, info := get(t, s, "k"); !bytes.Equal(got, first) || !bytes.Equal(info.SHA256, sum(first)) {
		t.Errorf("after second Put: Get = %q (sum %x), want %q", got, info.SHA256, first)
	}
}

func testWrongSum(t *testing.T, s blob.Store) {
	content := []byte("the real content")
	_, err := s.Put(ctxT(t), "k", bytes.NewReader(content), int64(len(content)), sum([]byte("other")), blob.PutOptions{})
	if !errors.Is(err, blob.ErrCorrupt) {
		t.Fatalf("Put with a wrong sum = %v, want ErrCorrupt", err)
	}
	absent(t, s, "k")
	if list, err := s.List(ctxT(t), ""); err != nil || len(list) != 0 {
		t.Errorf("List = %v, %v; want nothing", list, err)
	}
	// The key is still free.
	put(t, s, "k", content, blob.PutOptions{})
}

func testShortReader(t *testing.T, s blob.Store) {
	content := []byte("twelve bytes")
	_, err := s.Put(ctxT(t), "k", bytes.NewReader(content[:6]), int64(len(content)), sum(content), blob.PutOptions{})
	if err == nil {
		t.Fatal("Put of a short reader succeeded")
	}
	absent(t, s, "k")
}

func testLongReader(t *testing.T, s blob.Store) {
	content := []byte("twelve bytes")
	_, err := s.Put(ctxT(t), "k", bytes.NewReader(content), 6, sum(content[:6]), blob.PutOptions{})
	if !errors.Is(err, blob.ErrCorrupt) {
		t.Fatalf("Put of a reader longer than size = %v, want ErrCorrupt", err)
	}
	absent(t, s, "k")
}

var errBroken = errors.New("broken reader")

type brokenReader struct{ n int }

func (b *brokenReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errBroken
	}
	n := min(b.n, len(p))
	clear(p[:n])
	b.n -= n
	return n, nil
}

func testReaderError(t *testing.T, s blob.Store) {
	_, err := s.Put(ctxT(t), "k", &brokenReader{n: 100}, 1000, sum(make([]byte, 1000)), blob.PutOptions{})
	if err == nil {
		t.Fatal("Put of a failing reader succeeded")
	}
	absent(t, s, "k")
}

func testCanceled(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	content := []byte("never stored")
	if _, err := s.Put(ctx, "k", bytes.NewReader(content), int64(len(content)), sum(content), blob.PutOptions{}); err == nil {
		t.Fatal("Put with a canceled context succeeded")
	}
	absent(t, s, "k")
}

func testBadArguments(t *testing.T, s blob.Store) {
	content := []byte("x")
	cases := []struct {
		name string
		sum  []byte
		opts blob.PutOptions
	}{
		{"short sum", sum(content)[:16], blob.PutOptions{}},
		{"past retention", sum(content), blob.PutOptions{RetainUntil: time.Now().Add(-time.Hour)}},
		{"bad mode", sum(content), blob.PutOptions{RetainUntil: time.Now().Add(time.Hour), Mode: "FOREVER"}},
	}
	for _, c := range cases {
		_, err := s.Put(ctxT(t), "k", bytes.NewReader(content), 1, c.sum, c.opts)
		if !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("Put with %s = %v, want ErrInvalid", c.name, err)
		}
	}
	absent(t, s, "k")
	if _, err := s.URL(ctxT(t), "k", 0); err != nil && !errors.Is(err, blob.ErrInvalid) && !errors.Is(err, blob.ErrNoURL) {
		t.Errorf("URL with ttl 0 = %v, want ErrInvalid or ErrNoURL", err)
	}
}

func testList(t *testing.T, s blob.Store) {
	keys := []string{"list/x/2", "other", "list/y", "list/x/1", "list/x-3", "lis"}
	for i, k := range keys {
		put(t, s, k, []byte(strings.Repeat("z", i)), blob.PutOptions{})
	}
	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"list/x", []string{"list/x-3", "list/x/1", "list/x/2"}},
		{"list/x/", []string{"list/x/1", "list/x/2"}},
		{"list/", []string{"list/x-3", "list/x/1", "list/x/2", "list/y"}},
		{"lis", []string{"lis", "list/x-3", "list/x/1", "list/x/2", "list/y"}},
		{"", []string{"lis", "list/x-3", "list/x/1", "list/x/2", "list/y", "other"}},
		{"nothing/", nil},
		{"list/x/2/", nil},
	} {
		got, err := s.List(ctxT(t), c.prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", c.prefix, err)
		}
		var names []string
		for _, info := range got {
			names = append(names, info.Key)
			i := indexOf(keys, info.Key)
			content := []byte(strings.Repeat("z", i))
			checkInfo(t, "List "+info.Key, info, info.Key, content, blob.DefaultContentType)
		}
		if fmt.Sprint(names) != fmt.Sprint(c.want) {
			t.Errorf("List(%q) = %q, want %q", c.prefix, names, c.want)
		}
	}
}

func indexOf(keys []string, k string) int {
	for i, x := range keys {
		if x == k {
			return i
		}
	}
	return -1
}

func testBadKeys(t *testing.T, s blob.Store) {
	bad := []string{"", "/a", "a/", "a//b", "..", "../a", "a/../b", "a/./b", ".hidden", "a/.b",
		strings.Repeat("a/", blob.MaxKeyLen/2) + "a", "b/" + strings.Repeat("a", blob.MaxSegmentLen+1), "a\x00b", "a\nb", "a\\b", "\xff\xfe", "a\u200bb"}
	content := []byte("x")
	for _, k := range bad {
		if _, err := s.Put(ctxT(t), k, bytes.NewReader(content), 1, sum(content), blob.PutOptions{}); !errors.Is(err, blob.ErrBadKey) {
			t.Errorf("Put(%q) = %v, want ErrBadKey", k, err)
		}
		if _, err := s.Stat(ctxT(t), k); !errors.Is(err, blob.ErrBadKey) {
			t.Errorf("Stat(%q) = %v, want ErrBadKey", k, err)
		}
		if _, _, err := s.Get(ctxT(t), k); !errors.Is(err, blob.ErrBadKey) {
			t.Errorf("Get(%q) = %v, want ErrBadKey", k, err)
		}
		if err := s.SetLegalHold(ctxT(t), k, true); !errors.Is(err, blob.ErrBadKey) {
			t.Errorf("SetLegalHold(%q) = %v, want ErrBadKey", k, err)
		}
		if _, err := s.URL(ctxT(t), k, time.Minute); !errors.Is(err, blob.ErrBadKey) {
			t.Errorf("URL(%q) = %v, want ErrBadKey", k, err)
		}
	}
	seg := strings.Repeat("a", 127)
	good := []string{seg + "/" + seg + "/" + seg + "/" + seg + "x", strings.Repeat("b", blob.MaxSegmentLen), "a b/c-d_e.f~g+h=i@j,k(l)m", "ünïcode/键"}
	for _, k := range good {
		put(t, s, k, content, blob.PutOptions{})
		if got, _ := get(t, s, k); !bytes.Equal(got, content) {
			t.Errorf("Get(%q) = %q, want %q", k, got, content)
		}
	}
}

func testLegalHold(t *testing.T, s blob.Store) {
	put(t, s, "held", []byte("evidence"), blob.PutOptions{})
	for _, on := range []bool{true, true, false, true} {
		if err := s.SetLegalHold(ctxT(t), "held", on); err != nil {
			t.Fatalf("SetLegalHold(%v): %v", on, err)
		}
		info, err := s.Stat(ctxT(t), "held")
		if err != nil || info.LegalHold != on {
			t.Fatalf("after SetLegalHold(%v): Stat = %+v, %v", on, info, err)
		}
	}
	if got, _ := get(t, s, "held"); string(got) != "evidence" {
		t.Errorf("Get = %q after legal holds", got)
	}
	if err := s.SetLegalHold(ctxT(t), "held", false); err != nil {
		t.Fatal(err)
	}
}

func testRetention(t *testing.T, s blob.Store) {
	until := time.Now().Add(90 * time.Minute)
	info := put(t, s, "retained", []byte("keep me"), blob.PutOptions{RetainUntil: until})
	st, err := s.Stat(ctxT(t), "retained")
	if err != nil {
		t.Fatal(err)
	}
	for what, i := range map[string]blob.Info{"Put": info, "Stat": st} {
		if i.Mode != blob.Compliance || i.RetainUntil.Before(until.Truncate(time.Second)) || i.RetainUntil.Sub(until) > time.Second {
			t.Errorf("%s: retention %s until %v, want COMPLIANCE until %v", what, i.Mode, i.RetainUntil, until)
		}
	}
	put(t, s, "governed", []byte("keep me"), blob.PutOptions{RetainUntil: until, Mode: blob.Governance})
	if st, err := s.Stat(ctxT(t), "governed"); err != nil || st.Mode != blob.Governance {
		t.Errorf("Stat(governed) = %+v, %v; want GOVERNANCE", st, err)
	}
	if _, err := s.Put(ctxT(t), "retained", strings.NewReader("x"), 1, sum([]byte("x")), blob.PutOptions{}); !errors.Is(err, blob.ErrExists) {
		t.Errorf("Put over a retained object = %v, want ErrExists", err)
	}
}

func testConcurrentPut(t *testing.T, s blob.Store) {
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			content := []byte(fmt.Sprintf("writer %d", i))
			_, errs[i] = s.Put(ctxT(t), "contended", bytes.NewReader(content), int64(len(content)), sum(content), blob.PutOptions{})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("writers %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, blob.ErrExists):
			t.Errorf("writer %d: %v, want nil or ErrExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer succeeded")
	}
	if got, _ := get(t, s, "contended"); string(got) != fmt.Sprintf("writer %d", winner) {
		t.Errorf("Get = %q, want writer %d's content", got, winner)
	}
}

// LargeSize is the size of the object of the Large test.
const LargeSize = 20<<20 + 12345

// Generator returns a reproducible stream of n pseudo-random bytes.
func Generator(seed uint64, n int64) io.Reader {
	var key [32]byte
	key[0] = byte(seed)
	return io.LimitReader(rand.NewChaCha8(key), n)
}

// GeneratorSum returns the SHA-256 of Generator(seed, n).
func GeneratorSum(seed uint64, n int64) []byte {
	h := sha256.New()
	_, _ = io.Copy(h, Generator(seed, n))
	return h.Sum(nil)
}

func testLarge(t *testing.T, s blob.Store) {
	want := GeneratorSum(1, LargeSize)
	info, err := s.Put(ctxT(t), "large", Generator(1, LargeSize), LargeSize, want, blob.PutOptions{ContentType: "video/webm"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != LargeSize || !bytes.Equal(info.SHA256, want) {
		t.Errorf("Put = %+v", info)
	}
	rc, info, err := s.Get(ctxT(t), "large")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil || n != LargeSize || !bytes.Equal(h.Sum(nil), want) || !bytes.Equal(info.SHA256, want) {
		t.Errorf("Get: %d bytes, sum %x, info sum %x, err %v; want %d bytes, sum %x", n, h.Sum(nil), info.SHA256, err, LargeSize, want)
	}
}

func testURL(t *testing.T, s blob.Store) {
	content := []byte("served directly")
	put(t, s, "direct/file.txt", content, blob.PutOptions{ContentType: "text/plain"})
	u, err := s.URL(ctxT(t), "direct/file.txt", time.Minute)
	if errors.Is(err, blob.ErrNoURL) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, content) {
		t.Errorf("GET %s: %s %q %v; want 200 %q", u, resp.Status, got, err, content)
	}
}
