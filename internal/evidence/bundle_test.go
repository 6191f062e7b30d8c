package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestWriteBundle(t *testing.T) {
	f := newFixture(t)
	var done, total int64
	src := f.source()
	src.Progress = func(d, tot int64) { done, total = d, tot }
	var b bytes.Buffer
	if err := WriteBundle(context.Background(), &b, src); err != nil {
		t.Fatal(err)
	}
	if done != total || total != totalBytes(f.m.Segments) {
		t.Fatalf("progress %d of %d", done, total)
	}
	if again := f.bundle(t); !bytes.Equal(again, b.Bytes()) {
		t.Fatal("the same bundle written twice differs")
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, zf := range zr.File {
		names = append(names, zf.Name)
		wantMethod := zip.Deflate
		if strings.HasPrefix(zf.Name, MediaDir) {
			wantMethod = zip.Store
		}
		if zf.Method != wantMethod || !zf.Modified.Equal(f.m.SealedAt.Time) {
			t.Errorf("%s: method %d, modified %v", zf.Name, zf.Method, zf.Modified)
		}
	}
	if strings.Join(names[:5], " ") != "README.txt manifest.json manifest.sig public-key.pem audit.jsonl" ||
		names[5] != MediaDir+f.m.Segments[0].Key || len(names) != 5+12 {
		t.Fatalf("files %v", names)
	}
	files := unzipBytes(t, b.Bytes())
	if !bytes.Equal(files[ManifestFile], f.manifest) || !bytes.Equal(files[SignatureFile], f.sig) {
		t.Fatal("manifest or signature changed")
	}
	lines := strings.Split(strings.TrimSuffix(string(files[AuditFile]), "\n"), "\n")
	if len(lines) != 8 || !strings.HasPrefix(lines[1], `{"seq":3,"time":"2026-11-27T08:01:20.000000Z","actor_kind":"account",`) ||
		!strings.Contains(lines[1], `"detail":"{\"n\":\"<&>\"}","prev_hash":"`) {
		t.Fatalf("audit.jsonl:\n%s", files[AuditFile])
	}
	readme := string(files[ReadmeFile])
	for _, want := range []string{f.key.ID, "(2026)浙温证字第12号", "s1", "kuayang verify bundle.zip", "sha256sum",
		"openssl pkeyutl", "如何验证", "2026-11-27 08:10:00 UTC", "Zhang Wei",
		f.m.Segments[3].SHA256 + "  media/" + f.m.Segments[3].Key} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q", want)
		}
	}
}

func TestWriteBundleRefuses(t *testing.T) {
	f := newFixture(t)
	key := f.m.Segments[4].Key
	obj := f.objects[key]
	altered := bytes.Clone(obj)
	altered[0] ^= 1
	tests := []struct {
		name string
		edit func(*BundleSource)
		want string
	}{
		{"altered object", func(b *BundleSource) { b.Open = f.openWith(key, altered) }, key + "): the stored object's SHA-256 is"},
		{"short object", func(b *BundleSource) { b.Open = f.openWith(key, obj[:len(obj)-1]) }, "has " + strconv.Itoa(len(obj)-1) + " bytes"},
		{"long object", func(b *BundleSource) { b.Open = f.openWith(key, append(bytes.Clone(obj), 0)) }, "more than " + strconv.Itoa(len(obj))},
		{"missing object", func(b *BundleSource) { b.Open = f.openWith(key, nil) }, os.ErrNotExist.Error()},
		{"bad signature", func(b *BundleSource) { b.Signature = EncodeSignature(newKeyB(t).Sign(f.manifest)) }, "would not verify"},
		{"other audit extract", func(b *BundleSource) { b.Audit = f.log }, "would not verify"},
		{"no Open", func(b *BundleSource) { b.Open = nil }, "Open is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := f.source()
			tt.edit(&src)
			var b bytes.Buffer
			err := WriteBundle(context.Background(), &b, src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("WriteBundle = %v, want %q", err, tt.want)
			}
			if _, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len())); err == nil {
				t.Fatal("the failed bundle is a readable zip file")
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := WriteBundle(ctx, io.Discard, f.source()); !errors.Is(err, context.Canceled) {
			t.Fatalf("WriteBundle = %v", err)
		}
	})
}

// TestBundleSize: the size computed without media is the size of the zip
// file WriteBundle writes, and it is refused where WriteBundle is.
func TestBundleSize(t *testing.T) {
	f := newFixture(t)
	src := f.source()
	opened := 0
	src.Open = func(context.Context, string) (io.ReadCloser, error) { opened++; return nil, os.ErrNotExist }
	n, err := BundleSize(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if written := len(f.bundle(t)); n != int64(written) {
		t.Fatalf("BundleSize = %d, WriteBundle wrote %d bytes", n, written)
	}
	if opened != 0 {
		t.Fatalf("BundleSize opened %d media objects", opened)
	}
	src.Signature = EncodeSignature(newKeyB(t).Sign(f.manifest))
	if _, err := BundleSize(context.Background(), src); err == nil || !strings.Contains(err.Error(), "would not verify") {
		t.Fatalf("BundleSize with a bad signature = %v", err)
	}
}

func newKeyB(t *testing.T) *Key {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// openWith serves data for key (nil: not found) and the fixture's objects
// otherwise.
func (f *fixture) openWith(key string, data []byte) func(context.Context, string) (io.ReadCloser, error) {
	return func(ctx context.Context, k string) (io.ReadCloser, error) {
		if k != key {
			return f.source().Open(ctx, k)
		}
		if data == nil {
			return nil, os.ErrNotExist
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}
}

// TestReadmeByHand runs the README's manual checks, where the tools are.
func TestReadmeByHand(t *testing.T) {
	for _, tool := range []string{"sh", "openssl", "base64", "jq", "sha256sum", "tail"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	f := newFixture(t)
	dir := writeDir(t, t.TempDir(), unzipBytes(t, f.bundle(t)))
	run := func(script string) string {
		t.Helper()
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		return string(out)
	}
	if out := run("base64 -d manifest.sig > manifest.sig.bin && openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in manifest.json -sigfile manifest.sig.bin"); !strings.Contains(out, "Signature Verified Successfully") {
		t.Fatal(out)
	}
	os.Remove(filepath.Join(dir, "manifest.sig.bin"))
	if out := run("openssl pkey -pubin -in public-key.pem -outform DER | tail -c 32 | sha256sum"); out[:16] != strings.TrimPrefix(f.key.ID, "ed25519:") {
		t.Fatalf("key id by hand %s, want %s", out[:16], f.key.ID)
	}
	if out := run(`jq -r '.segments[] | .sha256 + "  media/" + .key' manifest.json | sha256sum -c`); strings.Count(out, ": OK") != 12 {
		t.Fatal(out)
	}
}
