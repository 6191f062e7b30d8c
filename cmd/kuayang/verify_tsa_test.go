package main

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuayang/kuayang/internal/tsa/tsatest"
)

// TestVerifyTimestamp: kuayang verify reports a bundle's timestamp,
// checks it against --tsa-ca when given, and fails a token of another
// document.
func TestVerifyTimestamp(t *testing.T) {
	dir := t.TempDir()
	path, _, _ := writeTestBundle(t, dir)
	bundle := filepath.Join(dir, "stamped")
	unzipTo(t, path, bundle)
	manifest, err := os.ReadFile(filepath.Join(bundle, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	a := tsatest.New(t)
	d := sha256.Sum256(manifest)
	token, err := a.Client().Stamp(context.Background(), d[:])
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(bundle, "manifest.tsr"), token, 0o644)
	roots, otherRoots := filepath.Join(dir, "tsa-root.pem"), filepath.Join(dir, "other-root.pem")
	os.WriteFile(roots, a.CAPEM, 0o644)
	os.WriteFile(otherRoots, tsatest.New(t).CAPEM, 0o644)

	code, out, _ := kuayang(t, "", "verify", bundle)
	if code != 0 || !strings.Contains(out, "timestamp manifest.json existed at ") || !strings.Contains(out, "Kuayang Test TSA") ||
		!strings.Contains(out, "run again with --tsa-ca") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	code, out, _ = kuayang(t, "", "verify", "--tsa-ca", roots, bundle)
	if code != 0 || !strings.Contains(out, "the authority is one the roots you gave (--tsa-ca) vouch for") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	code, out, _ = kuayang(t, "", "verify", "--quiet", bundle)
	if code != 0 || !strings.Contains(out, "; timestamped by ") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	code, out, _ = kuayang(t, "", "verify", "--tsa-ca", otherRoots, bundle)
	if code != 1 || !strings.Contains(out, "NOT INTACT: manifest.tsr is not a valid timestamp of manifest.json") || !strings.Contains(out, "token_untrusted") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	code, _, errOut := kuayang(t, "", "verify", "--tsa-ca", filepath.Join(bundle, "manifest.json"), bundle)
	if code != 2 || !strings.Contains(errOut, "--tsa-ca") {
		t.Fatalf("a --tsa-ca without certificates: exit %d: %s", code, errOut)
	}
	// A token of another document.
	other := sha256.Sum256([]byte("another manifest"))
	token, err = a.Client().Stamp(context.Background(), other[:])
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(bundle, "manifest.tsr"), token, 0o644)
	code, out, _ = kuayang(t, "", "verify", bundle)
	if code != 1 || !strings.Contains(out, "token_imprint_mismatch") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	// Without it, the bundle verifies and says it has none.
	os.Remove(filepath.Join(bundle, "manifest.tsr"))
	code, out, _ = kuayang(t, "", "verify", bundle)
	if code != 0 || !strings.Contains(out, "timestamp none") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}
