package load_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/load"
)

// relayChildEnv makes the test binary the floor's relay child.
const relayChildEnv = "KUAYANG_LOAD_TEST_RELAY"

func TestMain(m *testing.M) {
	if os.Getenv(relayChildEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := load.RelayMain(ctx, "127.0.0.1:0", os.Stdin, os.Stdout)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "relay:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// floorOptions runs the test binary as the relay child.
func floorOptions(t *testing.T) load.Options {
	t.Setenv(relayChildEnv, "1")
	o := load.Defaults()
	o.Floor, o.RelayCommand, o.Progress, o.JSON = true, []string{os.Args[0]}, -1, true
	o.Rooms, o.Participants, o.Duration = 1, 3, 2*time.Second
	return o
}

func lastJSON(t *testing.T, out string) load.Result {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var r load.Result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
	return r
}

func TestFloorAlone(t *testing.T) {
	o := floorOptions(t)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := load.Run(ctx, o, &stdout, &stderr)
	t.Logf("stderr:\n%s\nstdout:\n%s", stderr.String(), stdout.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	r := lastJSON(t, stdout.String())
	f := r.Floor
	if f == nil {
		t.Fatal("no floor in the JSON")
	}
	// 3 publishers of 30 frames (2 packets at 500 kbps) and 50 audio
	// packets a second, each relayed to 2.
	expected := (30*2 + 50) * 3 * 2 * f.DurationS
	if p := float64(f.RelayedPackets); p < expected/2 || p > expected*1.5 {
		t.Errorf("relayed %d packets, expected about %.0f", f.RelayedPackets, expected)
	}
	if f.LossPct != 0 {
		t.Errorf("loss %.3f %%", f.LossPct)
	}
	if f.CPUUsPerPacket <= 0 || r.FloorCPUUsPerPacket != f.CPUUsPerPacket {
		t.Errorf("floor CPU %v µs/packet (%v at the top)", f.CPUUsPerPacket, r.FloorCPUUsPerPacket)
	}
	if f.LatencyMS.P50 <= 0 || f.LatencyMS.Max < f.LatencyMS.P99 {
		t.Errorf("latency %+v", f.LatencyMS)
	}
	if r.ServerFloorRatio != 0 {
		t.Errorf("ratio %v without a server run", r.ServerFloorRatio)
	}
	if !strings.Contains(stdout.String(), "floor CPU") {
		t.Errorf("no floor rows in the table")
	}
}

// TestFloorAfterServer runs a server run and the floor in one invocation.
func TestFloorAfterServer(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base, res := startNode(t)
	clerk := account(t, res, "clerk")
	o := floorOptions(t)
	o.Server, o.Email, o.Password = base, clerk.Email, clerk.Password
	o.Rooms, o.Participants, o.JoinRate = 1, 3, 20
	o.ServerPID = os.Getpid()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := load.Run(ctx, o, &stdout, &stderr)
	t.Logf("stderr:\n%s\nstdout:\n%s", stderr.String(), stdout.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	r := lastJSON(t, stdout.String())
	if r.ForwardedPackets == 0 || r.Floor == nil || r.Floor.RelayedPackets == 0 {
		t.Fatalf("forwarded %d, floor %+v", r.ForwardedPackets, r.Floor)
	}
	if r.ServerFloorRatio <= 0 {
		t.Errorf("server/floor ratio %v (server %v, floor %v µs/packet)", r.ServerFloorRatio,
			r.ServerCPUUsPerPacket, r.FloorCPUUsPerPacket)
	}
}

func TestRelayRefusesNonLoopback(t *testing.T) {
	err := load.RelayMain(context.Background(), "0.0.0.0:0", strings.NewReader(""), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("err %v", err)
	}
}
