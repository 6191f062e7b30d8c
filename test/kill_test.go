package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/blob/miniotest"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/testpg"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// kuayangBinary builds cmd/kuayang once per test binary.
func kuayangBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kuayang-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "kuayang")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/kuayang/kuayang/cmd/kuayang").CombinedOutput()
		if err != nil {
			binErr = &buildError{string(out)}
		}
	})
	if binErr != nil {
		t.Fatalf("building kuayang: %v", binErr)
	}
	return binPath
}

type buildError struct{ out string }

func (e *buildError) Error() string { return e.out }

// proc is a `kuayang serve` process.
type proc struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	done chan struct{}
}

// startProc runs kuayang serve with args and waits for its URL.
func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = &syncWriter{b: p.logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "Kuayang is running at "); ok {
				urls <- u
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.done })
	select {
	case p.url = <-urls:
	case <-p.done:
		t.Fatalf("kuayang exited:\n%s", p.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("kuayang did not start:\n%s", p.logs.String())
	}
	return p
}

// syncWriter guards a buffer written by a process and read by the test.
type syncWriter struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestRecordingRecoversFromKill(t *testing.T) {
	t.Parallel() // separate processes, database, key space and bucket; mostly waiting (lease TTLs, an outage)
	media := realClip(t)
	bin := kuayangBinary(t)
	pg := testpg.URL(t)
	s3 := miniotest.Shared(t).URL("kill-" + store.NewID()[:12])
	dir := t.TempDir()
	args := []string{"--data-dir", dir, "--http-addr", "127.0.0.1:0", "--udp-port", "0", "--tcp-port", "0",
		"--public-ip", "127.0.0.1", "--postgres-url", pg, "--s3-url", s3, "--segment-duration", "3s",
		"--seal-grace", "5s", "--demo"}
	p := startProc(t, bin, args...)
	var demo struct {
		SessionID string              `json:"session_id"`
		JoinURLs  []map[string]string `json:"join_urls"`
		Accounts  []map[string]string `json:"accounts"`
	}
	waitFor(t, 30*time.Second, "demo.json", func() bool {
		raw, err := os.ReadFile(filepath.Join(dir, "demo.json"))
		return err == nil && json.Unmarshal(raw, &demo) == nil
	})
	invite := func(i int) string { u := demo.JoinURLs[i]["url"]; return u[strings.LastIndex(u, "/")+1:] }

	a := connectTo(t, p.url, invite(1), media)
	b := connectTo(t, p.url, invite(2), media)
	flowing(t, a, 30, b)
	time.Sleep(7 * time.Second)
	killedAt := time.Now()
	if err := p.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-p.done
	a.close()
	b.close()

	p = startProc(t, bin, args...)
	rejoinedAt := time.Now()
	a = connectTo(t, p.url, invite(1), media)
	b = connectTo(t, p.url, invite(2), media)
	flowing(t, a, 30, b)
	time.Sleep(5 * time.Second)
	a.leave(t)
	b.leave(t)

	clerk := staffClient(t, p.url, demo.Accounts, "clerk")
	waitSealed(t, clerk, demo.SessionID, 90*time.Second)
	out := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node logs after the restart:\n%s", p.logs.String())
		}
	})
	path := downloadBundle(t, clerk, demo.SessionID, out)
	if msg, err := exec.Command(bin, "verify", path).CombinedOutput(); err != nil || !strings.Contains(string(msg), "INTACT") {
		t.Fatalf("kuayang verify: %v\n%s\nnode logs:\n%s", err, msg, p.logs.String())
	}
	ext := filepath.Join(out, "x")
	unzip(t, path, ext)
	m := manifestOf(t, ext)
	checkMedia(t, ext, m)
	checkKillGaps(t, m, killedAt, rejoinedAt, a.self, b.self)

	// The command line names a changed bundle.
	b2 := filepath.Join(out, "changed.zip")
	zipBytes, _ := os.ReadFile(path)
	zipBytes[len(zipBytes)/3] ^= 0xff
	_ = os.WriteFile(b2, zipBytes, 0o644)
	if msg, err := exec.Command(bin, "verify", b2).CombinedOutput(); err == nil || !strings.Contains(string(msg), "NOT INTACT") {
		t.Fatalf("kuayang verify of a changed bundle: %v\n%s", err, msg)
	}
}

// checkKillGaps: media recorded before the kill is there (at most about
// two seconds lost), and the hole until the participants rejoined is a
// gap in the manifest.
func checkKillGaps(t *testing.T, m *evidence.Manifest, killedAt, rejoinedAt time.Time, ids ...string) {
	t.Helper()
	for _, id := range ids {
		var lastBefore time.Time
		for _, s := range m.Segments {
			if s.ParticipantID == id && s.WallEnd.Before(killedAt) && s.WallEnd.After(lastBefore) {
				lastBefore = s.WallEnd.Time
			}
		}
		if lost := killedAt.Sub(lastBefore); lost > 2*time.Second {
			t.Errorf("participant %s: media of the last %s before the kill is missing", id, lost.Round(time.Millisecond))
		}
		found := false
		for _, g := range m.Gaps {
			if g.ParticipantID == id && !g.From.After(killedAt) && !g.To.Before(killedAt) && g.To.Before(rejoinedAt.Add(5*time.Second)) {
				found = true
				t.Logf("gap of %s: %s (%s)", id, g.To.Sub(g.From.Time).Round(time.Millisecond), g.Reason)
			}
		}
		if !found {
			t.Errorf("participant %s: no gap in the manifest around the kill at %s; gaps: %+v", id, killedAt.Format(time.RFC3339Nano), m.Gaps)
			for _, s := range m.Segments {
				t.Logf("segment %s %d %s..%s", s.ParticipantID[:6], s.Index, s.WallStart.Format("15:04:05.000"), s.WallEnd.Format("15:04:05.000"))
			}
			for _, p := range m.Participants {
				t.Logf("presence %s %+v", p.ID[:6], p.Presence)
			}
		}
	}
	kinds := map[string]bool{}
	for _, e := range m.Events {
		kinds[e.Kind] = true
	}
	if !kinds[evidence.EventRecordingFailure] || !kinds[evidence.EventRecordingStart] {
		t.Errorf("events %v lack the restart's failure or the start", m.Events)
	}
}
