// Package nodetest starts a real node for tests: in-process, on random
// loopback ports, advertising 127.0.0.1 only, on the embedded defaults
// unless the caller changes the configuration, with the demo records made.
package nodetest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/demo"
	"github.com/kuayang/kuayang/internal/node"
)

// Start starts a node logging to w and closes it when the test ends. The
// mutators change the configuration before it is validated.
func Start(t testing.TB, w io.Writer, mutate ...func(*config.Config)) (*node.Node, *demo.Result) {
	t.Helper()
	cfg := config.Default()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.UDPPort = 0
	cfg.TCPPort = 0
	cfg.PublicIP = "127.0.0.1"
	cfg.DataDir = t.TempDir()
	for _, m := range mutate {
		m(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx := context.Background()
	n, err := node.New(ctx, cfg, log, "test")
	if err != nil {
		t.Fatalf("node.New: %v", err)
	}
	if err := n.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	res, err := n.Demo(ctx)
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	return n, res
}
