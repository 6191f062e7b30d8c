package tsa_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/tsa"
	"github.com/kuayang/kuayang/internal/tsa/tsatest"
)

func digestOf(s string) []byte {
	d := sha256.Sum256([]byte(s))
	return d[:]
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if !tsa.IsCode(err, code) {
		t.Fatalf("error %v, want code %s", err, code)
	}
}

func TestStampAndVerify(t *testing.T) {
	a := tsatest.New(t)
	d := digestOf("manifest")
	before := time.Now().Add(-time.Second)
	token, err := a.Client().Stamp(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	info, err := tsa.Verify(token, d, a.Roots)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Trusted || info.HashAlgorithm != "sha256" || !info.Policy.Equal(tsatest.Policy) || info.Serial.Sign() <= 0 ||
		!strings.Contains(info.TSA, "Kuayang Test TSA") || !strings.Contains(info.Subject, "Kuayang Test TSA") || info.Accuracy != time.Second {
		t.Fatalf("info: %+v", info)
	}
	if info.GenTime.Before(before.Truncate(time.Second)) || info.GenTime.After(time.Now()) {
		t.Fatalf("gen time %v", info.GenTime)
	}
	// Without roots: integrity only.
	if info, err := tsa.Verify(token, d, nil); err != nil || info.Trusted {
		t.Fatalf("without roots: %+v, %v", info, err)
	}
	// Another digest.
	_, err = tsa.Verify(token, digestOf("other manifest"), a.Roots)
	wantCode(t, err, tsa.CodeImprintMismatch)
	// Another authority's roots.
	_, err = tsa.Verify(token, d, tsatest.New(t).Roots)
	wantCode(t, err, tsa.CodeUntrusted)
	// A flipped byte of the signature (at the end of the DER).
	bad := bytes.Clone(token)
	bad[len(bad)-2] ^= 0x40
	_, err = tsa.Verify(bad, d, nil)
	wantCode(t, err, tsa.CodeSignature)
	// A flipped byte of the TSTInfo's digest: the message-digest
	// attribute no longer matches.
	bad = bytes.Replace(bytes.Clone(token), d, digestOf("forged"), 1)
	_, err = tsa.Verify(bad, digestOf("forged"), nil)
	wantCode(t, err, tsa.CodeSignature)
	// Not a token.
	_, err = tsa.Verify([]byte("not a token"), d, nil)
	wantCode(t, err, tsa.CodeMalformed)
	_, err = tsa.Verify(token[:len(token)/2], d, nil)
	wantCode(t, err, tsa.CodeMalformed)
}

func TestStampFailures(t *testing.T) {
	d := digestOf("x")
	ctx := context.Background()
	t.Run("rejected", func(t *testing.T) {
		a := tsatest.New(t)
		a.Refuse(tsa.StatusRejection, "policy not accepted", 15)
		_, err := a.Client().Stamp(ctx, d)
		wantCode(t, err, tsa.CodeRejected)
		if !strings.Contains(err.Error(), "rejection (unacceptedPolicy): policy not accepted") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("imprint", func(t *testing.T) {
		a := tsatest.New(t)
		a.StampInstead(digestOf("y"))
		_, err := a.Client().Stamp(ctx, d)
		wantCode(t, err, tsa.CodeImprintMismatch)
	})
	t.Run("nonce", func(t *testing.T) {
		a := tsatest.New(t)
		a.WrongNonce(true)
		_, err := a.Client().Stamp(ctx, d)
		wantCode(t, err, tsa.CodeNonceMismatch)
	})
	t.Run("down", func(t *testing.T) {
		a := tsatest.New(t)
		a.SetDown(true)
		_, err := a.Client().Stamp(ctx, d)
		wantCode(t, err, tsa.CodeUnavailable)
	})
	t.Run("timeout", func(t *testing.T) {
		a := tsatest.New(t)
		a.SetDelay(2 * time.Second)
		c := a.Client()
		c.Timeout = 200 * time.Millisecond
		start := time.Now()
		_, err := c.Stamp(ctx, d)
		wantCode(t, err, tsa.CodeUnavailable)
		if time.Since(start) > 1500*time.Millisecond {
			t.Fatalf("the timeout took %v", time.Since(start))
		}
	})
	t.Run("nothing listens", func(t *testing.T) {
		c := &tsa.Client{URL: "http://127.0.0.1:1/", Timeout: time.Second}
		_, err := c.Stamp(ctx, d)
		wantCode(t, err, tsa.CodeUnavailable)
	})
	t.Run("not sha256", func(t *testing.T) {
		_, err := tsatest.New(t).Client().Stamp(ctx, d[:20])
		wantCode(t, err, tsa.CodeBadRequest)
	})
	t.Run("garbage answer", func(t *testing.T) {
		_, err := tsa.ParseResponse([]byte{0x30, 0x03, 0x02, 0x01})
		wantCode(t, err, tsa.CodeBadResponse)
	})
}

// TestOpenSSLVerifiesToken: a token of the test authority, checked by
// openssl ts -verify against the digest, the root and the authority's
// certificate; and refused for another digest.
func TestOpenSSLVerifiesToken(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl is not installed; CI must have it to cross-check timestamp tokens")
		}
		t.Skip("openssl is not installed: the cross-check with OpenSSL is skipped")
	}
	a := tsatest.New(t)
	d := digestOf("manifest.json")
	token, err := a.Client().Stamp(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tsr, ca, cert := filepath.Join(dir, "token.tsr"), filepath.Join(dir, "ca.pem"), filepath.Join(dir, "tsa.pem")
	os.WriteFile(tsr, token, 0o600)
	os.WriteFile(ca, a.CAPEM, 0o600)
	os.WriteFile(cert, a.CertPEM, 0o600)
	out, err := exec.Command(bin, "ts", "-verify", "-digest", hex.EncodeToString(d), "-in", tsr, "-token_in",
		"-CAfile", ca, "-untrusted", cert).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "ts", "-verify", "-digest", hex.EncodeToString(digestOf("other")), "-in", tsr, "-token_in",
		"-CAfile", ca, "-untrusted", cert).CombinedOutput()
	if err == nil {
		t.Fatalf("openssl verified the token for another digest:\n%s", out)
	}
	// The token's text, as a reader would see it.
	out, err = exec.Command(bin, "ts", "-reply", "-in", tsr, "-token_in", "-text").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Policy OID: "+tsatest.Policy.String()) {
		t.Fatalf("openssl ts -reply -text: %v\n%s", err, out)
	}
}

func FuzzVerify(f *testing.F) {
	a := tsatest.New(f)
	d := digestOf("seed")
	token, err := a.Token(d, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(token)
	f.Add(token[:100])
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := tsa.Verify(b, d, a.Roots)
		if err == nil && !info.Trusted {
			t.Fatal("verified with roots but not trusted")
		}
		_, _ = tsa.ParseResponse(b)
		_, _ = tsa.ParseRequest(b)
	})
}
