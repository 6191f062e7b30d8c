package coord_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/coord"
	"github.com/kuayang/kuayang/internal/coord/coordtest"
	"github.com/kuayang/kuayang/internal/testredis"
)

func openRedis(t *testing.T, url string, opts coord.Options) *coord.Redis {
	t.Helper()
	r, err := coord.OpenRedis(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestRedisConformance(t *testing.T) {
	coordtest.Run(t, func(t *testing.T, opts coord.Options) func() coord.Coordinator {
		url := testredis.URL(t)
		return func() coord.Coordinator { return openRedis(t, url, opts) }
	})
}

func TestRedisURLPrefix(t *testing.T) {
	r, err := coord.OpenRedis("redis://127.0.0.1:6379/2?prefix=court-a:", coord.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Prefix() != "court-a:" {
		t.Fatalf("prefix %q", r.Prefix())
	}
	r2, err := coord.OpenRedis("redis://127.0.0.1:6379", coord.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if r2.Prefix() != coord.DefaultPrefix {
		t.Fatalf("default prefix %q", r2.Prefix())
	}
	if _, err := coord.OpenRedis("http://x:y", coord.Options{}); err == nil {
		t.Fatal("a non-Redis URL was accepted")
	}
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestRedisUnreachable: every call against a Redis that does not answer
// fails fast with ErrUnavailable, and a Member says it is not healthy.
func TestRedisUnreachable(t *testing.T) {
	r := openRedis(t, "redis://"+closedPort(t)+"/0", coord.Options{OpTimeout: 500 * time.Millisecond})
	ctx := context.Background()
	l := coord.NewLease("r", "n")
	calls := map[string]func() error{
		"Ping":       func() error { return r.Ping(ctx) },
		"Register":   func() error { return r.Register(ctx, coord.NodeInfo{ID: "n"}) },
		"Deregister": func() error { return r.Deregister(ctx, "n") },
		"Nodes":      func() error { _, err := r.Nodes(ctx); return err },
		"Acquire":    func() error { _, err := r.Acquire(ctx, "r", "n"); return err },
		"Holder":     func() error { _, err := r.Holder(ctx, "r"); return err },
		"Renew":      func() error { return r.Renew(ctx, l) },
		"Release":    func() error { return r.Release(ctx, l) },
		"Publish":    func() error { return r.Publish(ctx, coord.Event{Type: coord.SessionEnded, Room: "r"}) },
		"Subscribe":  func() error { _, err := r.Subscribe(ctx); return err },
		"Place":      func() error { _, err := coord.Place(ctx, r, "r"); return err },
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		if !errors.Is(err, coord.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("%s took %s, want a fast failure", name, d)
		}
	}
	m := coord.NewMember(r, coord.MemberConfig{Interval: 50 * time.Millisecond,
		Self: func() coord.NodeInfo { return coord.NodeInfo{ID: "n"} }})
	m.Start()
	if m.Healthy() {
		t.Error("member healthy without Redis")
	}
	if _, err := m.Acquire(ctx, "r"); !errors.Is(err, coord.ErrUnavailable) {
		t.Errorf("member acquire: %v", err)
	}
	if err := m.Close(ctx); !errors.Is(err, coord.ErrUnavailable) {
		t.Errorf("member close: %v", err)
	}
}

// TestRedisOutageRecovery: Redis goes away (the connection is cut) and
// comes back empty, as after a restart without persistence. Meanwhile
// calls fail fast and the member keeps trying; afterwards the member is
// registered again, its leases are re-asserted, and a subscription that
// was open before the outage delivers again.
func TestRedisOutageRecovery(t *testing.T) {
	url := testredis.URL(t)
	proxy := testredis.NewProxy(t, url)
	opts := coord.Options{NodeTTL: time.Second, LeaseTTL: time.Second, OpTimeout: 300 * time.Millisecond}
	viaProxy := openRedis(t, proxy.URL(url), opts)
	direct := openRedis(t, url, opts)
	ctx := context.Background()

	m := coord.NewMember(viaProxy, coord.MemberConfig{Interval: 100 * time.Millisecond,
		Self: func() coord.NodeInfo { return coord.NodeInfo{ID: "n1", URL: "https://n1.example"} }})
	m.Start()
	defer m.Close(ctx)
	if !m.Healthy() {
		t.Fatal("member not healthy")
	}
	if rec, err := direct.Recovering(ctx); rec || err != nil {
		t.Fatalf("recovering %v %v on a first start, want false", rec, err)
	}
	if _, err := m.Acquire(ctx, "room-1"); err != nil {
		t.Fatal(err)
	}
	sub, err := viaProxy.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	proxy.Stop()
	start := time.Now()
	if _, err := viaProxy.Acquire(ctx, "room-2", "n1"); !errors.Is(err, coord.ErrUnavailable) {
		t.Fatalf("acquire during the outage: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("acquire during the outage took %s", d)
	}
	waitFor(t, 3*time.Second, "member unhealthy", func() bool { return !m.Healthy() })
	// Redis restarts and has lost everything.
	if err := testredis.Flush(viaProxy.Prefix(), testredis.Client(t, url)); err != nil {
		t.Fatal(err)
	}
	if h, _ := direct.Holder(ctx, "room-1"); h != "" {
		t.Fatalf("holder %q after the flush", h)
	}
	if rec, err := direct.Recovering(ctx); !rec || err != nil {
		t.Fatalf("recovering %v %v after Redis lost its state, want true", rec, err)
	}
	time.Sleep(300 * time.Millisecond) // the member retries in vain a few times
	proxy.Start()

	waitFor(t, 5*time.Second, "member healthy again", m.Healthy)
	nodes, err := direct.Nodes(ctx)
	if err != nil || len(nodes) != 1 || nodes[0].ID != "n1" {
		t.Fatalf("nodes after recovery: %+v %v", nodes, err)
	}
	if h, err := direct.Holder(ctx, "room-1"); h != "n1" || err != nil {
		t.Fatalf("holder after recovery: %q %v, want n1", h, err)
	}
	if _, err := direct.Acquire(ctx, "room-1", "n2"); !errors.Is(err, coord.ErrLeased) {
		t.Fatalf("another node acquired the re-asserted room: %v", err)
	}
	// The state counts as recovering for a membership round after the
	// member registered again (other nodes may not have yet), then no more.
	if rec, err := direct.Recovering(ctx); !rec || err != nil {
		t.Fatalf("recovering %v %v just after the member registered again, want true", rec, err)
	}
	waitFor(t, coord.DefaultInterval+2*time.Second, "recovery over", func() bool {
		rec, err := direct.Recovering(ctx)
		return err == nil && !rec
	})
	// The subscription reconnects by itself: keep publishing until an
	// event arrives.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := direct.Publish(ctx, coord.Event{Type: coord.ParticipantJoined, Room: "room-1", Participant: "p"}); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-sub.Events():
			if e.Type != coord.ParticipantJoined || e.Room != "room-1" {
				t.Fatalf("event %+v", e)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("subscription did not recover")
		}
	}
}

// TestRedisKeysUnderPrefix: everything the coordinator writes is under its
// prefix, so installations (and tests) can share one Redis.
func TestRedisKeysUnderPrefix(t *testing.T) {
	url := testredis.URL(t)
	r := openRedis(t, url, coord.Options{})
	ctx := context.Background()
	if err := r.Register(ctx, coord.NodeInfo{ID: "n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Acquire(ctx, "room", "n"); err != nil {
		t.Fatal(err)
	}
	keys, err := testredis.Client(t, url).Keys(ctx, r.Prefix()+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4 {
		t.Fatalf("keys %v, want node, nodes, epoch and lease", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, testredis.Prefix(url)) {
			t.Fatalf("key %q outside the prefix", k)
		}
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
