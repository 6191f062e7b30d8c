package evidence

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "signing-key.pem")
	k, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.ID, "ed25519:") || len(k.ID) != len("ed25519:")+16 || k.ID != KeyID(k.Public) {
		t.Fatalf("id %q", k.ID)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if !bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Fatalf("%s", data)
	}
	again, err := LoadOrCreateKey(path)
	if err != nil || again.ID != k.ID || !again.Public.Equal(k.Public) {
		t.Fatalf("reload: %v %v", again, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}

	msg := []byte("manifest")
	sig := k.Sign(msg)
	if err := VerifySignature(again.Public, msg, sig); err != nil {
		t.Fatal(err)
	}
	if VerifySignature(k.Public, []byte("manifesT"), sig) == nil || VerifySignature(k.Public, msg, sig[:63]) == nil {
		t.Fatal("bad signature accepted")
	}
	dec, err := DecodeSignature(EncodeSignature(sig))
	if err != nil || !bytes.Equal(dec, sig) || !bytes.HasSuffix(EncodeSignature(sig), []byte("=\n")) {
		t.Fatalf("signature encoding: %v", err)
	}
	pub, err := ParsePublicPEM(k.PublicPEM())
	if err != nil || !pub.Equal(k.Public) {
		t.Fatalf("public PEM: %v", err)
	}
	if _, err := ParsePublicPEM(data); err == nil {
		t.Fatal("a private key parsed as public")
	}
	if _, err := ParsePublicPEM(append(k.PublicPEM(), k.PublicPEM()...)); err == nil {
		t.Fatal("two keys parsed as one")
	}
	if b, err := MarshalPublicPEM(k.Public); err != nil || !bytes.Equal(b, k.PublicPEM()) || !bytes.Equal(again.PublicPEM(), b) {
		t.Fatalf("MarshalPublicPEM differs from PublicPEM: %v", err)
	}
	if _, err := MarshalPublicPEM(k.Public[:31]); err == nil {
		t.Fatal("a 31-byte public key marshalled")
	}

	if runtime.GOOS != "windows" {
		os.Chmod(path, 0o644)
		if _, err := LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("readable key: %v", err)
		}
		os.Chmod(path, 0o600)
	}
	os.WriteFile(path, []byte("garbage"), 0o600)
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Fatal("garbage key loaded")
	}
}

func TestLoadOrCreateKeyConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signing-key.pem")
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			k, err := LoadOrCreateKey(path)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = k.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("different keys: %v", ids)
		}
	}
}
