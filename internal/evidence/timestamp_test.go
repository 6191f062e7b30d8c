package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/tsa/tsatest"
)

// stamped is the fixture's bundle with a timestamp token of its manifest
// from a, unzipped.
func stamped(t *testing.T, f *fixture, a *tsatest.TSA) map[string][]byte {
	t.Helper()
	d := sha256.Sum256(f.manifest)
	token, err := a.Client().Stamp(context.Background(), d[:])
	if err != nil {
		t.Fatal(err)
	}
	src := f.source()
	src.Timestamp = token
	var b bytes.Buffer
	if err := WriteBundle(context.Background(), &b, src); err != nil {
		t.Fatal(err)
	}
	if n, err := BundleSize(context.Background(), src); err != nil || n != int64(b.Len()) {
		t.Fatalf("BundleSize %d (%v), wrote %d", n, err, b.Len())
	}
	return unzipBytes(t, b.Bytes())
}

func TestTimestampedBundle(t *testing.T) {
	f := newFixture(t)
	a := tsatest.New(t)
	files := stamped(t, f, a)
	if files[TimestampFile] == nil {
		t.Fatal("the bundle has no manifest.tsr")
	}
	if !strings.Contains(string(files[ReadmeFile]), "openssl ts -verify -data manifest.json -in manifest.tsr") {
		t.Error("the README does not explain the timestamp")
	}
	if strings.Contains(string(unzipBytes(t, f.bundle(t))[ReadmeFile]), "manifest.tsr") {
		t.Error("the README of a bundle without timestamp speaks of one")
	}
	for _, form := range []string{"zip", "dir"} {
		path := writeZip(t, t.TempDir(), files)
		if form == "dir" {
			path = writeDir(t, t.TempDir(), files)
		}
		r, err := verifyPath(t, path, VerifyOptions{})
		checkResult(t, r, err, "", "")
		ts := r.Timestamp
		if ts == nil || ts.Trusted || !strings.Contains(ts.Authority, "Kuayang Test TSA") || time.Since(ts.Time) > time.Minute || ts.Serial == "" {
			t.Fatalf("%s: timestamp %+v", form, ts)
		}
		r, err = verifyPath(t, path, VerifyOptions{TSARoots: a.Roots})
		checkResult(t, r, err, "", "")
		if !r.Timestamp.Trusted {
			t.Fatalf("%s: not trusted with the authority's root: %+v", form, r.Timestamp)
		}
	}
	path := writeZip(t, t.TempDir(), files)

	// Another authority's roots.
	r, err := verifyPath(t, path, VerifyOptions{TSARoots: tsatest.New(t).Roots})
	checkResult(t, r, err, UntrustedTimestamp, "manifest.tsr")

	// A token altered: a byte of its signature.
	altered := cloneFiles(files)
	altered[TimestampFile] = bytes.Clone(files[TimestampFile])
	altered[TimestampFile][len(altered[TimestampFile])-2] ^= 0x40
	r, err = verifyPath(t, writeZip(t, t.TempDir(), altered), VerifyOptions{})
	checkResult(t, r, err, BadTimestamp, "token_signature")

	// A token of another manifest (another session's, well signed by the
	// same authority).
	g := newFixture(t)
	other := stamped(t, g, a)
	swapped := cloneFiles(files)
	swapped[TimestampFile] = other[TimestampFile]
	r, err = verifyPath(t, writeZip(t, t.TempDir(), swapped), VerifyOptions{})
	checkResult(t, r, err, BadTimestamp, "token_imprint_mismatch")

	// Not a token at all.
	junk := cloneFiles(files)
	junk[TimestampFile] = []byte("not a token\n")
	r, err = verifyPath(t, writeZip(t, t.TempDir(), junk), VerifyOptions{})
	checkResult(t, r, err, BadTimestamp, "token_malformed")

	// Removing it leaves a bundle without timestamp, which verifies as
	// one: the token is an addition, not part of what is signed.
	cut := cloneFiles(files)
	delete(cut, TimestampFile)
	r, err = verifyPath(t, writeZip(t, t.TempDir(), cut), VerifyOptions{TSARoots: a.Roots})
	checkResult(t, r, err, "", "")
	if r.Timestamp != nil {
		t.Fatal("a timestamp reported without manifest.tsr")
	}

	// WriteBundle refuses a token of another manifest.
	src := f.source()
	src.Timestamp = other[TimestampFile]
	if err := WriteBundle(context.Background(), &bytes.Buffer{}, src); err == nil || !strings.Contains(err.Error(), "token_imprint_mismatch") {
		t.Fatalf("WriteBundle with another manifest's token: %v", err)
	}
}

// TestTimestampByHand: the README's openssl commands check the token.
func TestTimestampByHand(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl is not installed")
		}
		t.Skip("openssl is not installed: the README's timestamp commands are not tried")
	}
	f := newFixture(t)
	a := tsatest.New(t)
	dir := writeDir(t, t.TempDir(), stamped(t, f, a))
	if err := os.WriteFile(filepath.Join(dir, "TSA-ROOT.pem"), a.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(script string) (string, error) {
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("openssl ts -reply -in manifest.tsr -token_in -text"); err != nil || !strings.Contains(out, "Kuayang Test TSA") {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := run("openssl ts -verify -data manifest.json -in manifest.tsr -token_in -CAfile TSA-ROOT.pem"); err != nil || !strings.Contains(out, "Verification: OK") {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := run("openssl ts -verify -data audit.jsonl -in manifest.tsr -token_in -CAfile TSA-ROOT.pem"); err == nil {
		t.Fatalf("openssl verified the token over another file:\n%s", out)
	}
}

// TestCertificateShowsTimestamp: the certificate prints a verified
// timestamp, and nothing of one when there is none.
func TestCertificateShowsTimestamp(t *testing.T) {
	f := newFixture(t)
	a := tsatest.New(t)
	files := stamped(t, f, a)
	ts, err := VerifyTimestamp(files[TimestampFile], f.manifest, a.Roots)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyTimestamp(files[TimestampFile], append(bytes.Clone(f.manifest), ' '), nil); err == nil {
		t.Fatal("a token verified against another manifest")
	}
	for _, c := range []struct {
		ts   *Timestamp
		want bool
	}{{ts, true}, {nil, false}} {
		var b bytes.Buffer
		if err := WriteCertificate(&b, Certificate{Manifest: f.m, ManifestSHA256: sha256Hex(f.manifest), Timestamp: c.ts, IssuedAt: t0}); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		if got := strings.Contains(page, "Trusted timestamp"); got != c.want {
			t.Fatalf("timestamp %v: printed %v", c.ts, got)
		}
		if c.want && (!strings.Contains(page, "Kuayang Test TSA") || !strings.Contains(page, ts.Time.UTC().Format("2006-01-02 15:04:05 UTC")) ||
			!strings.Contains(page, "serial "+ts.Serial)) {
			t.Fatalf("the certificate lacks the timestamp:\n%s", page)
		}
	}
}
