package load_test

import (
	"bytes"
	"context"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/load"
)

// leaked returns the stacks of goroutines that run code of this package,
// of pion/webrtc or of an HTTP client connection.
func leaked() []string {
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
	var out []string
	for _, g := range strings.Split(b.String(), "\n\n") {
		if strings.Contains(g, "TestNoGoroutineLeak") {
			continue
		}
		if strings.Contains(g, "kuayang/internal/load.") || strings.Contains(g, "pion/webrtc/v4.") ||
			strings.Contains(g, "net/http.(*persistConn)") {
			out = append(out, g)
		}
	}
	return out
}

func TestNoGoroutineLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base, res := startNode(t)
	clerk := account(t, res, "clerk")
	o := load.Defaults()
	o.Server, o.Email, o.Password = base, clerk.Email, clerk.Password
	o.Rooms, o.Participants, o.Duration, o.JoinRate = 1, 2, time.Second, 20
	o.Progress = -1
	if err := load.Run(context.Background(), o, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		l := leaked()
		if len(l) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left after Run:\n%s", len(l), strings.Join(l, "\n\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCancel stops a run by its context during the window.
func TestCancel(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base, res := startNode(t)
	clerk := account(t, res, "clerk")
	o := load.Defaults()
	o.Server, o.Email, o.Password = base, clerk.Email, clerk.Password
	o.Duration, o.JoinRate, o.Progress = time.Minute, 20, -1
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	var stdout bytes.Buffer
	err := load.Run(ctx, o, &stdout, &bytes.Buffer{})
	if err != context.DeadlineExceeded {
		t.Errorf("err %v, want the context's", err)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("Run took %v after cancel", d)
	}
	if !strings.Contains(stdout.String(), "forwarded") {
		t.Errorf("no report: %q", stdout.String())
	}
}
