package tsa_test

import (
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuayang/kuayang/internal/tsa"
	"github.com/kuayang/kuayang/internal/tsa/tsatest"
)

// TestOpenSSLAuthority: tokens made by another implementation, OpenSSL
// acting as the authority (openssl ts -reply), parse and verify: ESS
// signing-certificate v1 (SHA-1) and v2, fractional seconds, accuracy,
// ordering, the authority's name. And a refusal reads as one.
func TestOpenSSLAuthority(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl is not installed; CI must have it to cross-check timestamp tokens")
		}
		t.Skip("openssl is not installed: the cross-check with OpenSSL is skipped")
	}
	a := tsatest.New(t)
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("tsa.pem", a.CertPEM)
	write("tsa.key", a.KeyPEM)
	write("ca.pem", a.CAPEM)
	write("serial", []byte("1000\n"))
	run := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
		return out
	}
	d := digestOf("manifest.json")
	for _, essAlg := range []string{"sha1", "sha256"} {
		t.Run("ess "+essAlg, func(t *testing.T) {
			write("tsa.cnf", []byte(`[ tsa ]
default_tsa = tsa1
[ tsa1 ]
serial = ./serial
crypto_device = builtin
signer_cert = ./tsa.pem
certs = ./ca.pem
signer_key = ./tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384
accuracy = secs:1, millisecs:500, microsecs:100
clock_precision_digits = 3
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = `+essAlg+"\n"))
			run("ts", "-query", "-digest", hex.EncodeToString(d), "-sha256", "-cert", "-out", "req.tsq")
			run("ts", "-reply", "-queryfile", "req.tsq", "-config", "tsa.cnf", "-out", "resp.tsr")
			resp, err := os.ReadFile(filepath.Join(dir, "resp.tsr"))
			if err != nil {
				t.Fatal(err)
			}
			token, err := tsa.ParseResponse(resp)
			if err != nil {
				t.Fatal(err)
			}
			info, err := tsa.Verify(token, d, a.Roots)
			if err != nil {
				t.Fatal(err)
			}
			if !info.Trusted || info.Policy.String() != "1.2.3.4.1" || info.Accuracy.Microseconds() != 1_500_100 ||
				!strings.Contains(info.TSA, "Kuayang Test TSA") {
				t.Fatalf("info %+v", info)
			}
			_, err = tsa.Verify(token, digestOf("other"), a.Roots)
			wantCode(t, err, tsa.CodeImprintMismatch)
		})
	}
	// A SHA-384 imprint is refused clearly.
	d384 := make([]byte, 48)
	run("ts", "-query", "-digest", hex.EncodeToString(d384), "-sha384", "-cert", "-out", "req384.tsq")
	run("ts", "-reply", "-queryfile", "req384.tsq", "-config", "tsa.cnf", "-out", "resp384.tsr")
	resp, _ := os.ReadFile(filepath.Join(dir, "resp384.tsr"))
	token, err := tsa.ParseResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tsa.Verify(token, d384, nil)
	wantCode(t, err, tsa.CodeUnsupportedHash)
	// OpenSSL refusing a digest it was not configured for (SHA-512).
	run("ts", "-query", "-digest", hex.EncodeToString(make([]byte, 64)), "-sha512", "-out", "req512.tsq")
	run("ts", "-reply", "-queryfile", "req512.tsq", "-config", "tsa.cnf", "-out", "resp512.tsr")
	resp, _ = os.ReadFile(filepath.Join(dir, "resp512.tsr"))
	_, err = tsa.ParseResponse(resp)
	wantCode(t, err, tsa.CodeRejected)
	if !strings.Contains(err.Error(), "rejection (badAlg)") {
		t.Fatalf("refusal: %v", err)
	}
}
