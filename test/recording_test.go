package test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/blob/miniotest"
	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/node"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/testpg"
)

// recordingConfig points a node at PostgreSQL and a MinIO bucket, with
// short segments and a short grace period.
func recordingConfig(pg, s3 string) func(*config.Config) {
	return func(c *config.Config) {
		c.PostgresURL, c.S3URL = pg, s3
		c.SegmentDuration, c.SealGrace = 3*time.Second, time.Second
	}
}

// leave sends leave and waits for the bye.
func (c *client) leave(t *testing.T) {
	t.Helper()
	c.send(map[string]any{"type": "leave"})
	// From now on the server may close the connection at any moment: an
	// answer to an offer that crossed the leave is no failure.
	c.mu.Lock()
	c.leaving = true
	c.mu.Unlock()
	expectMsg(t, c, "bye")
	c.close()
}

// staffClient logs in as the demo account of role.
func staffClient(t *testing.T, base string, accounts []map[string]string, role string) *apiClient {
	t.Helper()
	for _, a := range accounts {
		if a["role"] == role {
			c := &apiClient{t: t, base: base}
			status, out := c.do("POST", "/api/v1/login", map[string]string{"email": a["email"], "password": a["password"]})
			if status != 200 {
				t.Fatalf("login %s: %d %v", role, status, out)
			}
			c.token = out["token"].(string)
			return c
		}
	}
	t.Fatalf("no demo %s", role)
	return nil
}

func demoAccounts(n *testNode) []map[string]string {
	var out []map[string]string
	for _, a := range n.demo.Accounts {
		out = append(out, map[string]string{"role": a.Role, "email": a.Email, "password": a.Password})
	}
	return out
}

// waitSealed polls the recording until it is sealed and returns it.
func waitSealed(t *testing.T, c *apiClient, sessionID string, timeout time.Duration) map[string]any {
	t.Helper()
	var rec map[string]any
	var status int
	deadline := time.Now().Add(timeout)
	for {
		status, rec = c.do("GET", "/api/v1/sessions/"+sessionID+"/recordings", nil)
		if status == 200 && rec["state"] == "sealed" {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatalf("the recording was not sealed within %s: %d %v", timeout, status, rec)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// downloadBundle fetches the evidence bundle into dir/bundle.zip.
func downloadBundle(t *testing.T, c *apiClient, sessionID, dir string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", c.base+"/api/v1/sessions/"+sessionID+"/bundle", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("bundle: %d %s", resp.StatusCode, b)
	}
	path := filepath.Join(dir, "bundle.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
	return path
}

// verifyBundle checks a bundle offline and returns the report.
func verifyBundle(t *testing.T, open func() (evidence.Source, error)) (*evidence.Report, error) {
	t.Helper()
	src, err := open()
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return evidence.Verify(context.Background(), src, evidence.VerifyOptions{})
}

// unzip extracts a bundle into dir.
func unzip(t *testing.T, path, dir string) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// manifestOf reads the manifest of an extracted bundle.
func manifestOf(t *testing.T, dir string) *evidence.Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := evidence.DecodeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// probe checks a media file with ffprobe and a full ffmpeg decode, and
// returns its duration in seconds.
func probe(t *testing.T, path string) float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var info struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, s := range info.Streams {
		kinds[s.CodecType] = s.CodecName
	}
	if kinds["video"] != "vp8" || kinds["audio"] != "opus" {
		t.Errorf("%s: streams %v, want vp8 video and opus audio", filepath.Base(path), kinds)
	}
	// A millisecond output time base: ffmpeg otherwise quantizes video
	// to its estimated frame rate, and two frames of a real, jittery
	// stream can land in one slot ("non monotonically increasing dts"),
	// a complaint of its null muxer, not of the file.
	decodeArgs := []string{"-v", "error", "-i", path, "-enc_time_base:v", "1:1000", "-f", "null", "-"}
	if msg, err := exec.Command("ffmpeg", decodeArgs...).CombinedOutput(); err != nil || len(msg) > 0 {
		t.Errorf("%s does not decode cleanly: %v %s", filepath.Base(path), err, msg)
	}
	d, _ := strconv.ParseFloat(info.Format.Duration, 64)
	return d
}

// presence is the time each participant was present, from the manifest.
func presence(m *evidence.Manifest) map[string]float64 {
	out := map[string]float64{}
	for _, p := range m.Participants {
		for _, pr := range p.Presence {
			if !pr.LeftAt.IsZero() {
				out[p.ID] += pr.LeftAt.Sub(pr.JoinedAt.Time).Seconds()
			}
		}
	}
	return out
}

func TestRecordedCallSealsIntoAVerifiedBundle(t *testing.T) {
	media := realClip(t)
	pg := testpg.URL(t)
	srv := miniotest.Shared(t)
	n := startNode(t, recordingConfig(pg, srv.URL("rec-"+store.NewID()[:12])))
	a := connectTo(t, n.URL(), n.invite(t, 1), media)
	b := connectTo(t, n.URL(), n.invite(t, 2), media)
	flowing(t, a, 30, b)
	time.Sleep(5 * time.Second)
	// b drops out and comes back: the same recording goes on.
	b.leave(t)
	time.Sleep(2 * time.Second)
	b = connectTo(t, n.URL(), n.invite(t, 2), media)
	flowing(t, a, 30, b)
	time.Sleep(6 * time.Second)
	a.leave(t)
	b.leave(t)
	left := time.Now()

	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	rec := waitSealed(t, clerk, n.demo.SessionID, 60*time.Second)
	t.Logf("sealed %s after the last participant left (grace period 1s)", time.Since(left).Round(10*time.Millisecond))
	if rec["manifest_sha256"] == "" || rec["key_id"] == "" {
		t.Fatalf("sealed recording %v", rec)
	}
	dir := t.TempDir()
	path := downloadBundle(t, clerk, n.demo.SessionID, dir)
	report, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenZip(path) })
	if err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	t.Logf("bundle: %d participants, %d segments, key %s", len(report.Participants), report.Segments, report.KeyID)
	// The node's own check of the objects in MinIO agrees.
	if status, v := clerk.do("POST", "/api/v1/sessions/"+n.demo.SessionID+"/verify", nil); status != http.StatusOK ||
		v["ok"] != true || v["segments_checked"] != float64(report.Segments) {
		t.Errorf("verify on the node: %d %v", status, v)
	}

	ext := filepath.Join(dir, "x")
	unzip(t, path, ext)
	m := manifestOf(t, ext)
	checkMedia(t, ext, m, a.self, b.self)
	checkTampering(t, ext, m)
	checkLegalHold(t, n, clerk, m)
}

// checkLegalHold: the clerk puts the recording on legal hold and takes it
// off; the object store reports it on every object.
func checkLegalHold(t *testing.T, n *testNode, clerk *apiClient, m *evidence.Manifest) {
	t.Helper()
	b, err := node.OpenBlob(context.Background(), n.Config())
	if err != nil {
		t.Fatal(err)
	}
	for _, on := range []bool{true, false} {
		if status, out := clerk.do("POST", "/api/v1/sessions/"+n.demo.SessionID+"/legal-hold", map[string]bool{"on": on}); status != http.StatusNoContent {
			t.Fatalf("legal hold %v: %d %v", on, status, out)
		}
		for _, key := range []string{m.Segments[0].Key, "sessions/" + n.demo.SessionID + "/manifest.json"} {
			info, err := b.Stat(context.Background(), key)
			if err != nil || info.LegalHold != on {
				t.Fatalf("%s: legal hold %v, want %v (%v)", key, info.LegalHold, on, err)
			}
		}
		if _, out := clerk.do("GET", "/api/v1/sessions/"+n.demo.SessionID+"/recordings", nil); out["legal_hold"] != on {
			t.Fatalf("recording legal_hold %v, want %v", out["legal_hold"], on)
		}
	}
}

// checkMedia decodes every segment and compares each participant's
// recorded time with the time they were present.
func checkMedia(t *testing.T, dir string, m *evidence.Manifest, ids ...string) {
	t.Helper()
	recorded := map[string]float64{}
	indexes := map[string][]int{}
	for _, s := range m.Segments {
		recorded[s.ParticipantID] += probe(t, filepath.Join(dir, "media", filepath.FromSlash(s.Key)))
		indexes[s.ParticipantID] = append(indexes[s.ParticipantID], s.Index)
	}
	present := presence(m)
	for _, id := range ids {
		if recorded[id] == 0 {
			t.Errorf("participant %s has no recording", id)
		}
		t.Logf("participant %s: present %.2fs, recorded %.2fs", id, present[id], recorded[id])
		if d := present[id] - recorded[id]; math.Abs(d) > 1 {
			t.Errorf("participant %s: present %.2fs, recorded %.2fs: more than 1 s apart", id, present[id], recorded[id])
		}
		seen := map[int]bool{}
		for _, i := range indexes[id] {
			if seen[i] {
				t.Errorf("participant %s: segment index %d twice", id, i)
			}
			seen[i] = true
		}
	}
	for _, g := range m.Gaps {
		t.Logf("gap: %s %s..%s %s", g.ParticipantID, g.From.Format(time.RFC3339Nano), g.To.Format(time.RFC3339Nano), g.Reason)
	}
}

// checkTampering: one flipped byte, a deleted segment or two swapped
// segments each make the bundle fail verification.
func checkTampering(t *testing.T, dir string, m *evidence.Manifest) {
	t.Helper()
	if len(m.Segments) < 2 {
		t.Fatalf("want at least two segments, have %d", len(m.Segments))
	}
	file := func(i int) string { return filepath.Join(dir, "media", filepath.FromSlash(m.Segments[i].Key)) }
	tamper := []struct {
		name   string
		do     func() (undo func())
		expect evidence.ProblemKind
	}{
		{"flipped byte", func() func() {
			b, _ := os.ReadFile(file(0))
			orig := append([]byte(nil), b...)
			b[len(b)/2] ^= 0x01
			_ = os.WriteFile(file(0), b, 0o644)
			return func() { _ = os.WriteFile(file(0), orig, 0o644) }
		}, evidence.HashMismatch},
		{"deleted segment", func() func() {
			b, _ := os.ReadFile(file(1))
			_ = os.Remove(file(1))
			return func() { _ = os.WriteFile(file(1), b, 0o644) }
		}, evidence.MissingFile},
		{"swapped segments", func() func() {
			x, _ := os.ReadFile(file(0))
			y, _ := os.ReadFile(file(1))
			_ = os.WriteFile(file(0), y, 0o644)
			_ = os.WriteFile(file(1), x, 0o644)
			return func() { _ = os.WriteFile(file(0), x, 0o644); _ = os.WriteFile(file(1), y, 0o644) }
		}, ""},
	}
	for _, tc := range tamper {
		undo := tc.do()
		_, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenDir(dir) })
		undo()
		var p *evidence.Problem
		if !asProblem(err, &p) || (tc.expect != "" && p.Kind != tc.expect) {
			t.Errorf("%s: verify = %v, want a %q problem", tc.name, err, tc.expect)
		}
	}
	if _, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenDir(dir) }); err != nil {
		t.Fatalf("restored bundle: %v", err)
	}
}

func asProblem(err error, p **evidence.Problem) bool {
	if err == nil {
		return false
	}
	pr, ok := err.(*evidence.Problem)
	if !ok {
		return false
	}
	*p = pr
	return true
}

func TestRecordingSurvivesObjectStoreOutage(t *testing.T) {
	t.Parallel() // separate processes, database, key space and bucket; mostly waiting (lease TTLs, an outage)
	if testing.Short() {
		t.Skip("the outage lasts 30 s")
	}
	media := realClip(t)
	pg := testpg.URL(t)
	srv := miniotest.NewServer(t)
	n := startNode(t, recordingConfig(pg, srv.URL("outage")))
	a := connectTo(t, n.URL(), n.invite(t, 1), media)
	b := connectTo(t, n.URL(), n.invite(t, 2), media)
	flowing(t, a, 30, b)
	time.Sleep(4 * time.Second)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Second)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	a.leave(t)
	b.leave(t)
	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	waitSealed(t, clerk, n.demo.SessionID, 90*time.Second)
	dir := t.TempDir()
	path := downloadBundle(t, clerk, n.demo.SessionID, dir)
	if _, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenZip(path) }); err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	ext := filepath.Join(dir, "x")
	unzip(t, path, ext)
	m := manifestOf(t, ext)
	for _, g := range m.Gaps {
		t.Errorf("media lost during the outage: %s %s..%s %s", g.ParticipantID, g.From.Format(time.RFC3339), g.To.Format(time.RFC3339), g.Reason)
	}
	present := presence(m)
	recorded := map[string]float64{}
	for _, s := range m.Segments {
		recorded[s.ParticipantID] += s.MediaEnd - s.MediaStart
	}
	for _, id := range []string{a.self, b.self} {
		if math.Abs(present[id]-recorded[id]) > 1 {
			t.Errorf("participant %s: present %.1fs, recorded %.1fs", id, present[id], recorded[id])
		}
	}
	if pending := n.Node.Archive().Pending(); pending != 0 {
		t.Errorf("%d segments still waiting for upload", pending)
	}
}

func TestHostEndsSessionForEveryone(t *testing.T) {
	media := realClip(t)
	n := startNode(t, func(c *config.Config) { c.SegmentDuration, c.SealGrace = 2*time.Second, time.Hour })
	a := connectTo(t, n.URL(), n.invite(t, 1), media)
	b := connectTo(t, n.URL(), n.invite(t, 2), media)
	flowing(t, a, 30, b)
	time.Sleep(2 * time.Second)

	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	if status, _ := clerk.do("POST", "/api/v1/sessions/"+n.demo.SessionID+"/end", nil); status != http.StatusForbidden {
		t.Fatalf("a clerk ended the session: %d", status)
	}
	mediator := staffClient(t, n.URL(), demoAccounts(n), "mediator")
	if status, out := mediator.do("POST", "/api/v1/sessions/"+n.demo.SessionID+"/end", nil); status != http.StatusNoContent {
		t.Fatalf("end: %d %v", status, out)
	}
	for _, c := range []*client{a, b} {
		if m := expectMsg(t, c, "bye"); m["reason"] != "session_ended" {
			t.Fatalf("%s: bye %v", c.name, m)
		}
	}
	// Sealed at once, not after the hour of grace.
	waitSealed(t, clerk, n.demo.SessionID, 30*time.Second)
	if status, raw := postJSON(t, n.URL()+"/api/v1/join", map[string]string{"invite": n.invite(t, 1)}, nil); status != http.StatusGone || !strings.Contains(string(raw), "session_ended") {
		t.Fatalf("join after the end: %d %s", status, raw)
	}
	if status, _ := mediator.do("POST", "/api/v1/sessions/"+n.demo.SessionID+"/end", nil); status != http.StatusConflict {
		t.Fatalf("second end: %d", status)
	}
}
