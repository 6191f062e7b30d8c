package test

import (
	"archive/zip"
	"crypto/sha256"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/blob/miniotest"
	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/testpg"
	"github.com/kuayang/kuayang/internal/tsa"
	"github.com/kuayang/kuayang/internal/tsa/tsatest"
)

// TestSealedRecordingIsTimestamped: a node with a timestamp authority
// (--tsa-url, --tsa-ca) records a call; the bundle a clerk downloads
// holds manifest.tsr, a token of that authority over the manifest, which
// verifies offline with the authority's roots, and the node's own check
// reports the timestamp as trusted.
func TestSealedRecordingIsTimestamped(t *testing.T) {
	media := realClip(t)
	pg := testpg.URL(t)
	srv := miniotest.Shared(t)
	authority := tsatest.New(t)
	roots := filepath.Join(t.TempDir(), "tsa-root.pem")
	if err := os.WriteFile(roots, authority.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, recordingConfig(pg, srv.URL("tsa-"+store.NewID()[:12])), func(c *config.Config) {
		c.TSAURL, c.TSACA = authority.URL, roots
	})
	a := connectTo(t, n.URL(), n.invite(t, 1), media)
	b := connectTo(t, n.URL(), n.invite(t, 2), media)
	flowing(t, a, 30, b)
	time.Sleep(4 * time.Second)
	a.leave(t)
	b.leave(t)

	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	waitSealed(t, clerk, n.demo.SessionID, 60*time.Second)
	// The token comes right after the seal.
	var v map[string]any
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var status int
		status, v = clerk.do("POST", "/api/v1/sessions/"+n.demo.SessionID+"/verify", nil)
		if status != http.StatusOK || v["ok"] != true {
			t.Fatalf("verify on the node: %d %v", status, v)
		}
		if v["timestamp"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no timestamp in the node's check: %v", v)
		}
	}
	ts := v["timestamp"].(map[string]any)
	if ts["trusted"] != true || ts["authority"] == "" {
		t.Fatalf("timestamp %v", ts)
	}

	// The printable certificate shows it.
	req, _ := http.NewRequest("GET", clerk.base+"/api/v1/sessions/"+n.demo.SessionID+"/certificate", nil)
	req.Header.Set("Authorization", "Bearer "+clerk.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Trusted timestamp") || !strings.Contains(string(page), "Kuayang Test TSA") {
		t.Fatalf("certificate: %d\n%s", resp.StatusCode, page)
	}

	// Legal hold covers the token with the rest.
	if status, out := clerk.do("POST", "/api/v1/sessions/"+n.demo.SessionID+"/legal-hold", map[string]bool{"on": true}); status != http.StatusNoContent {
		t.Fatalf("legal hold: %d %v", status, out)
	}

	path := downloadBundle(t, clerk, n.demo.SessionID, t.TempDir())
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		if f.Name == evidence.ManifestFile || f.Name == evidence.TimestampFile {
			rc, _ := f.Open()
			files[f.Name], _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	zr.Close()
	if files[evidence.TimestampFile] == nil {
		t.Fatal("the bundle has no manifest.tsr")
	}
	d := sha256.Sum256(files[evidence.ManifestFile])
	info, err := tsa.Verify(files[evidence.TimestampFile], d[:], authority.Roots)
	if err != nil || !info.Trusted {
		t.Fatalf("the token in the bundle: %+v %v", info, err)
	}
	src, err := evidence.OpenZip(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rep, err := evidence.Verify(t.Context(), src, evidence.VerifyOptions{TSARoots: authority.Roots})
	if err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	if rep.Timestamp == nil || !rep.Timestamp.Trusted || !rep.Timestamp.Time.Equal(info.GenTime) {
		t.Fatalf("report timestamp %+v", rep.Timestamp)
	}
	t.Logf("timestamped by %s at %s, %d segments", rep.Timestamp.Authority, rep.Timestamp.Time, rep.Segments)
}
