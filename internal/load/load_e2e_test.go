package load_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/demo"
	"github.com/kuayang/kuayang/internal/load"
	"github.com/kuayang/kuayang/internal/nodetest"
)

// startNode starts a node on random loopback ports, advertising 127.0.0.1
// only, with the demo records, and returns its base URL and demo accounts.
func startNode(t *testing.T) (string, *demo.Result) {
	t.Helper()
	var w io.Writer = io.Discard
	if os.Getenv("KUAYANG_TEST_LOG") != "" {
		w = os.Stderr
	}
	n, res := nodetest.Start(t, w)
	// The node calls itself localhost; stay on 127.0.0.1.
	return strings.Replace(n.URL(), "localhost", "127.0.0.1", 1), res
}

func account(t *testing.T, res *demo.Result, role string) demo.Account {
	t.Helper()
	for _, a := range res.Accounts {
		if a.Role == role {
			return a
		}
	}
	t.Fatalf("no demo %s", role)
	return demo.Account{}
}

func TestRunAgainstNode(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base, res := startNode(t)
	clerk := account(t, res, "clerk")
	o := load.Defaults()
	o.Server, o.Email, o.Password = base, clerk.Email, clerk.Password
	o.Rooms, o.Participants, o.Duration, o.JoinRate = 2, 3, 4*time.Second, 20
	o.ServerPID, o.JSON = os.Getpid(), true
	// The node runs in this process: serve this process's profiler.
	prof := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pprof.Handler("heap").ServeHTTP(w, r)
	}))
	defer prof.Close()
	o.ServerDebug = prof.URL
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := load.Run(ctx, o, &stdout, &stderr)
	t.Logf("stderr:\n%s\nstdout:\n%s", stderr.String(), stdout.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	var r map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("last line is not JSON: %v", err)
	}
	for _, k := range []string{"forwarded_packets", "server_cpu_us_per_packet", "latency_ms", "join_ms", "loss_pct",
		"server_rss_mb", "rooms", "participants", "duration_s", "sent_packets", "recv_packets_per_s", "recv_bytes_per_s"} {
		if _, ok := r[k]; !ok {
			t.Errorf("JSON lacks %s", k)
		}
	}
	var got load.Result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatal(err)
	}
	if got.Joined != 6 || got.FirstFrames != 6 {
		t.Errorf("joined %d, first frames %d, want 6", got.Joined, got.FirstFrames)
	}
	if got.StreamsFlowing != 12 || got.StreamsExpected != 12 {
		t.Errorf("video streams %d of %d, want 12", got.StreamsFlowing, got.StreamsExpected)
	}
	// Each of 6 participants receives 30 video frames (2 packets each at
	// 500 kbps) and 50 audio packets a second from 2 others.
	expected := (30*2 + 50) * 2 * 6 * got.DurationS
	if f := float64(got.ForwardedPackets); f < expected/2 || f > expected*1.5 {
		t.Errorf("forwarded %d packets, expected about %.0f", got.ForwardedPackets, expected)
	}
	if got.LatencyMS.P99 <= 0 || got.LatencyMS.Max < got.LatencyMS.P99 {
		t.Errorf("latency %+v", got.LatencyMS)
	}
	if got.JoinMS.P95 <= 0 {
		t.Errorf("join %+v", got.JoinMS)
	}
	if got.ServerCPUUsPerPacket <= 0 || got.ServerRSSMB <= 0 {
		t.Errorf("server cpu %v µs/packet, rss %v MB", got.ServerCPUUsPerPacket, got.ServerRSSMB)
	}
	// Six participants with their pion clients in this process hold far
	// more than a megabyte of heap between them.
	if got.ServerHeapMB < 1 || got.ServerHeapPerParticipantMB <= 0 {
		t.Errorf("server heap %v MB, %v MB per participant", got.ServerHeapMB, got.ServerHeapPerParticipantMB)
	}
	if got.LossPct > 5 {
		t.Errorf("loss %.2f%%", got.LossPct)
	}
}

// TestRunSimulcast runs clients that publish three simulcast layers: every
// client receives everyone's video, one layer per stream, and the report
// says which.
func TestRunSimulcast(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base, res := startNode(t)
	clerk := account(t, res, "clerk")
	o := load.Defaults()
	o.Server, o.Email, o.Password = base, clerk.Email, clerk.Password
	o.Rooms, o.Participants, o.Duration, o.JoinRate = 1, 3, 3*time.Second, 20
	o.Simulcast, o.JSON = true, true
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := load.Run(ctx, o, &stdout, &stderr)
	t.Logf("stderr:\n%s\nstdout:\n%s", stderr.String(), stdout.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	var got load.Result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("last line is not JSON: %v", err)
	}
	if !got.Simulcast || got.Joined != 3 || got.FirstFrames != 3 {
		t.Errorf("simulcast %v, joined %d, first frames %d, want 3", got.Simulcast, got.Joined, got.FirstFrames)
	}
	if got.StreamsFlowing != 6 || got.StreamsExpected != 6 {
		t.Errorf("video streams %d of %d, want 6", got.StreamsFlowing, got.StreamsExpected)
	}
	l, on := got.LayersReceived, got.StreamsOnLayer
	if l == nil || on == nil {
		t.Fatalf("no layers in the report: %s", lines[len(lines)-1])
	}
	if l.Low+l.Mid+l.High == 0 {
		t.Errorf("layers received %+v", *l)
	}
	if on.Low+on.Mid+on.High != 6 {
		t.Errorf("streams on layers %+v, want 6 in all", *on)
	}
	if got.LatencyMS.P99 <= 0 || got.LossPct > 5 {
		t.Errorf("latency %+v, loss %.2f%%", got.LatencyMS, got.LossPct)
	}
}

func TestRunBadLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base, res := startNode(t)
	clerk := account(t, res, "clerk")
	o := load.Defaults()
	o.Server, o.Email, o.Password = base, clerk.Email, "wrong password"
	err := load.Run(context.Background(), o, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "login failed: bad_credentials") {
		t.Errorf("err %v, want login failed: bad_credentials", err)
	}
}

func TestRunOptions(t *testing.T) {
	o := load.Defaults()
	err := load.Run(context.Background(), o, io.Discard, io.Discard)
	if !errors.Is(err, load.ErrUsage) || !strings.Contains(err.Error(), "--server") {
		t.Errorf("err %v", err)
	}
	o.Server, o.Token, o.Participants = "http://127.0.0.1:1", "t", 1
	if err := load.Run(context.Background(), o, io.Discard, io.Discard); !errors.Is(err, load.ErrUsage) {
		t.Errorf("err %v", err)
	}
}
