package test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/testpg"
	"github.com/kuayang/kuayang/internal/testredis"
)

// startCluster starts n nodes sharing one PostgreSQL database and one
// Redis key space, each with its own data directory and node id.
func startCluster(t *testing.T, ids ...string) []*testNode {
	t.Helper()
	pg, rd := testpg.URL(t), testredis.URL(t)
	var nodes []*testNode
	for _, id := range ids {
		nodes = append(nodes, startNode(t, func(c *config.Config) {
			c.PostgresURL, c.RedisURL, c.NodeID = pg, rd, id
		}))
	}
	waitFor(t, 5*time.Second, "every node registered", func() bool {
		for _, n := range nodes {
			if len(n.Member().Nodes()) != len(ids) {
				n.Member().Tick(context.Background())
				return false
			}
		}
		return true
	})
	return nodes
}

// TestClusterRedirectToRoomsNode: two nodes share PostgreSQL and Redis.
// The first participant enters through node A, and the room is placed
// (on A unless B is clearly less loaded); the second enters through the
// node that does not host it, is redirected, and both are in one room
// with media both ways. Ending the session on the node that does not host
// it ends it for everyone.
func TestClusterRedirectToRoomsNode(t *testing.T) {
	nodes := startCluster(t, "node-a", "node-b")
	a, b := nodes[0], nodes[1]
	sid := a.demo.SessionID
	if b.demo.SessionID != sid {
		t.Fatalf("the nodes made different demo sessions: %s %s", sid, b.demo.SessionID)
	}

	// The first participant enters through A. The room is new: A hosts it
	// unless B looks clearly less loaded (CPU), then A sends p1 there.
	p1 := connectTo(t, a.URL(), a.invite(t, 1), nil)
	host, other, hostID := a, b, "node-a"
	if p1.base == b.URL() {
		host, other, hostID = b, a, "node-b"
		t.Logf("node A placed the new room on node B")
	}
	if p1.base != host.URL() || p1.redirects > 1 {
		t.Fatalf("first participant on %s after %d redirects", p1.base, p1.redirects)
	}
	if h, err := other.Member().Coordinator().Holder(t.Context(), sid); err != nil || h != hostID {
		t.Fatalf("room holder %q %v, want %s", h, err, hostID)
	}

	// The second enters through the other node and is sent to the host.
	p2 := connectTo(t, other.URL(), other.invite(t, 2), nil)
	if p2.base != host.URL() || p2.redirectedFrom != other.URL() || p2.redirects != 1 {
		t.Fatalf("second participant on %s from %q after %d redirects, want redirected from %s to %s",
			p2.base, p2.redirectedFrom, p2.redirects, other.URL(), host.URL())
	}
	flowing(t, p1, 10, p2)
	flowing(t, p2, 10, p1)

	// A page served by one node may ask another for a join token (CORS),
	// which the web client does after a redirect; strangers may not.
	for origin, want := range map[string]string{other.URL(): other.URL(), "https://evil.example": ""} {
		req, _ := http.NewRequest(http.MethodOptions, host.URL()+"/api/v1/join", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Fatalf("preflight from %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
		}
	}
	if got := len(host.Present(sid)); got != 2 {
		t.Fatalf("%d present on the hosting node, want 2", got)
	}
	if got := len(other.Present(sid)); got != 0 {
		t.Fatalf("%d present on the other node, want 0", got)
	}

	// Staff end the session on the other node: the hosting node hears of
	// it over Redis and says bye to everyone.
	if err := other.EndSession(t.Context(), sid); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{p1, p2} {
		if m := expectMsg(t, c, "bye"); m["reason"] != "session_ended" {
			t.Fatalf("%s: bye %v, want session_ended", c.name, m)
		}
	}
	// The emptied room's lease is released (after a short linger).
	waitFor(t, 10*time.Second, "lease released", func() bool {
		h, err := host.Member().Coordinator().Holder(t.Context(), sid)
		return err == nil && h == ""
	})
}

// TestClusterConcurrentJoinsOneRoom: the three participants of a new room
// enter at the same moment through two nodes; the room is placed on
// exactly one node and everyone ends up there, with media flowing.
func TestClusterConcurrentJoinsOneRoom(t *testing.T) {
	nodes := startCluster(t, "node-a", "node-b")
	clients := make([]*client, 3)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range clients {
		n := nodes[i%2]
		inv := n.invite(t, i)
		wg.Add(1)
		go func() {
			defer wg.Done() // also when connectTo fails the test
			<-start
			clients[i] = connectTo(t, n.URL(), inv, nil)
		}()
	}
	close(start)
	wg.Wait()
	for i, c := range clients {
		if c == nil {
			t.Fatalf("participant %d did not join", i)
		}
		if c.base != clients[0].base {
			t.Fatalf("participants on %s and %s: the room was placed twice", clients[0].base, c.base)
		}
	}
	holder, err := nodes[0].Member().Coordinator().Holder(t.Context(), nodes[0].demo.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	host := nodes[0]
	if holder == "node-b" {
		host = nodes[1]
	}
	if host.URL() != clients[0].base {
		t.Fatalf("lease held by %s, participants on %s", holder, clients[0].base)
	}
	if got := len(host.Present(host.demo.SessionID)); got != 3 {
		t.Fatalf("%d present on the hosting node, want 3", got)
	}
	flowing(t, clients[0], 10, clients[1], clients[2])
	flowing(t, clients[2], 10, clients[0], clients[1])
}
