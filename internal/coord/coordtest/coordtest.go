// Package coordtest is the conformance suite every coord.Coordinator
// implementation must pass (in-process and Redis alike).
package coordtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/coord"
)

// Factory makes an empty backend with the given timings for one test and
// returns a function that opens another handle on that same backend (as
// another node would); the handles are closed when the test ends.
type Factory func(t *testing.T, opts coord.Options) (open func() coord.Coordinator)

// Short timings, so that expiry tests take a fraction of a second.
const (
	ttl  = 400 * time.Millisecond
	tick = 100 * time.Millisecond
)

func opts() coord.Options { return coord.Options{NodeTTL: ttl, LeaseTTL: ttl} }

// Run runs the suite as subtests of t.
func Run(t *testing.T, f Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func() coord.Coordinator)
	}{
		{"RegisterList", testRegisterList},
		{"RegistrationExpiry", testRegistrationExpiry},
		{"Deregister", testDeregister},
		{"LeaseExclusive", testLeaseExclusive},
		{"LeaseRenew", testLeaseRenew},
		{"LeaseRelease", testLeaseRelease},
		{"StaleHolderCannotRelease", testStaleHolderCannotRelease},
		{"ExpiryTakeover", testExpiryTakeover},
		{"RenewReasserts", testRenewReasserts},
		{"PubSub", testPubSub},
		{"Place", testPlace},
		{"Member", testMember},
		{"MemberLost", testMemberLost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			open := f(t, opts())
			tc.fn(t, open)
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ids(nodes []coord.NodeInfo) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.ID)
	}
	return out
}

func testRegisterList(t *testing.T, open func() coord.Coordinator) {
	a, b := open(), open()
	c := ctx(t)
	must(t, a.Register(c, coord.NodeInfo{ID: "node-b", URL: "https://b.example", UDPAddr: "10.0.0.2:7882",
		Load: coord.Load{Rooms: 2, Participants: 5, Tracks: 10, CPU: 0.25}}))
	must(t, b.Register(c, coord.NodeInfo{ID: "node-a", URL: "https://a.example", UDPAddr: "10.0.0.1:7882"}))
	nodes, err := a.Nodes(c)
	must(t, err)
	if fmt.Sprint(ids(nodes)) != "[node-a node-b]" {
		t.Fatalf("nodes %v, want [node-a node-b]", ids(nodes))
	}
	nb := nodes[1]
	if nb.URL != "https://b.example" || nb.UDPAddr != "10.0.0.2:7882" || nb.Load != (coord.Load{Rooms: 2, Participants: 5, Tracks: 10, CPU: 0.25}) || nb.Updated.IsZero() {
		t.Fatalf("node-b as listed: %+v", nb)
	}
	// A new registration replaces the load.
	must(t, a.Register(c, coord.NodeInfo{ID: "node-b", URL: "https://b.example", Load: coord.Load{Rooms: 3}}))
	nodes, err = b.Nodes(c)
	must(t, err)
	if len(nodes) != 2 || nodes[1].Load.Rooms != 3 {
		t.Fatalf("after update: %+v", nodes)
	}
}

func testRegistrationExpiry(t *testing.T, open func() coord.Coordinator) {
	a, b := open(), open()
	c := ctx(t)
	must(t, a.Register(c, coord.NodeInfo{ID: "stays"}))
	must(t, a.Register(c, coord.NodeInfo{ID: "goes"}))
	// "stays" keeps reporting for three TTLs; "goes" stops.
	deadline := time.Now().Add(3 * ttl)
	for time.Now().Before(deadline) {
		time.Sleep(tick)
		must(t, a.Register(c, coord.NodeInfo{ID: "stays"}))
	}
	nodes, err := b.Nodes(c)
	must(t, err)
	if fmt.Sprint(ids(nodes)) != "[stays]" {
		t.Fatalf("nodes %v after the TTL, want [stays]", ids(nodes))
	}
	// Coming back is registering again.
	must(t, a.Register(c, coord.NodeInfo{ID: "goes"}))
	nodes, err = b.Nodes(c)
	must(t, err)
	if fmt.Sprint(ids(nodes)) != "[goes stays]" {
		t.Fatalf("nodes %v, want [goes stays]", ids(nodes))
	}
}

func testDeregister(t *testing.T, open func() coord.Coordinator) {
	a := open()
	c := ctx(t)
	must(t, a.Register(c, coord.NodeInfo{ID: "x"}))
	must(t, a.Deregister(c, "x"))
	must(t, a.Deregister(c, "never-registered"))
	nodes, err := a.Nodes(c)
	must(t, err)
	if len(nodes) != 0 {
		t.Fatalf("nodes %v after deregister", ids(nodes))
	}
}

func testLeaseExclusive(t *testing.T, open func() coord.Coordinator) {
	const n = 32
	handles := make([]coord.Coordinator, 4)
	for i := range handles {
		handles[i] = open()
	}
	c := ctx(t)
	for round := range 5 {
		room := fmt.Sprintf("room-%d", round)
		var wins atomic.Int32
		var winner atomic.Value
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				node := fmt.Sprintf("node-%d", i)
				l, err := handles[i%len(handles)].Acquire(c, room, node)
				switch {
				case err == nil:
					wins.Add(1)
					winner.Store(l.Node)
				case errors.Is(err, coord.ErrLeased):
					var le *coord.LeasedError
					if !errors.As(err, &le) || le.Room != room || le.Holder == "" || le.Holder == node {
						errs <- fmt.Errorf("leased error %#v", err)
					}
				default:
					errs <- err
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if wins.Load() != 1 {
			t.Fatalf("%s: %d winners, want exactly 1", room, wins.Load())
		}
		h, err := handles[0].Holder(c, room)
		must(t, err)
		if h != winner.Load().(string) {
			t.Fatalf("holder %q, winner %q", h, winner.Load())
		}
	}
}

func testLeaseRenew(t *testing.T, open func() coord.Coordinator) {
	a, b := open(), open()
	c := ctx(t)
	l, err := a.Acquire(c, "r", "A")
	must(t, err)
	if l.Room != "r" || l.Node != "A" || l.Token == "" {
		t.Fatalf("lease %+v", l)
	}
	// Renewed for three TTLs, the lease holds.
	deadline := time.Now().Add(3 * ttl)
	for time.Now().Before(deadline) {
		time.Sleep(tick)
		must(t, a.Renew(c, l))
	}
	if _, err := b.Acquire(c, "r", "B"); !errors.Is(err, coord.ErrLeased) {
		t.Fatalf("acquire of a renewed lease: %v, want ErrLeased", err)
	}
	h, err := b.Holder(c, "r")
	must(t, err)
	if h != "A" {
		t.Fatalf("holder %q, want A", h)
	}
	// Not renewed, it expires.
	time.Sleep(ttl + tick)
	h, err = b.Holder(c, "r")
	must(t, err)
	if h != "" {
		t.Fatalf("holder %q after expiry, want none", h)
	}
}

func testLeaseRelease(t *testing.T, open func() coord.Coordinator) {
	a, b := open(), open()
	c := ctx(t)
	l, err := a.Acquire(c, "r", "A")
	must(t, err)
	forged := l
	forged.Token = "not-the-token"
	if err := b.Release(c, forged); !errors.Is(err, coord.ErrLeaseLost) {
		t.Fatalf("release with a wrong token: %v, want ErrLeaseLost", err)
	}
	if err := b.Renew(c, forged); !errors.Is(err, coord.ErrLeaseLost) {
		t.Fatalf("renew with a wrong token: %v, want ErrLeaseLost", err)
	}
	if h, _ := b.Holder(c, "r"); h != "A" {
		t.Fatalf("holder %q after a forged release, want A", h)
	}
	must(t, a.Release(c, l))
	if h, _ := b.Holder(c, "r"); h != "" {
		t.Fatalf("holder %q after release, want none", h)
	}
	if err := a.Release(c, l); !errors.Is(err, coord.ErrLeaseLost) {
		t.Fatalf("second release: %v, want ErrLeaseLost", err)
	}
	// Released, it is free at once.
	if _, err := b.Acquire(c, "r", "B"); err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
}

func testStaleHolderCannotRelease(t *testing.T, open func() coord.Coordinator) {
	a, b := open(), open()
	c := ctx(t)
	la, err := a.Acquire(c, "r", "A")
	must(t, err)
	time.Sleep(ttl + tick) // A stalls; its lease expires
	lb, err := b.Acquire(c, "r", "B")
	must(t, err)
	if err := a.Release(c, la); !errors.Is(err, coord.ErrLeaseLost) {
		t.Fatalf("stale release: %v, want ErrLeaseLost", err)
	}
	if err := a.Renew(c, la); !errors.Is(err, coord.ErrLeaseLost) {
		t.Fatalf("stale renew: %v, want ErrLeaseLost", err)
	}
	if h, _ := a.Holder(c, "r"); h != "B" {
		t.Fatalf("holder %q, want B", h)
	}
	must(t, b.Renew(c, lb))
	must(t, b.Release(c, lb))
}

func testExpiryTakeover(t *testing.T, open func() coord.Coordinator) {
	a, b := open(), open()
	c := ctx(t)
	_, err := a.Acquire(c, "r", "A")
	must(t, err)
	_, err = b.Acquire(c, "r", "B")
	var le *coord.LeasedError
	if !errors.As(err, &le) || le.Holder != "A" {
		t.Fatalf("acquire of a held lease: %v, want LeasedError{Holder: A}", err)
	}
	// A stops renewing: within the TTL B can take the room.
	deadline := time.Now().Add(ttl + 3*tick)
	for {
		l, err := b.Acquire(c, "r", "B")
		if err == nil {
			if l.Node != "B" {
				t.Fatalf("lease %+v", l)
			}
			break
		}
		if !errors.Is(err, coord.ErrLeased) || time.Now().After(deadline) {
			t.Fatalf("takeover: %v", err)
		}
		time.Sleep(tick / 2)
	}
}

func testRenewReasserts(t *testing.T, open func() coord.Coordinator) {
	a, b := open(), open()
	c := ctx(t)
	l, err := a.Acquire(c, "r", "A")
	must(t, err)
	time.Sleep(ttl + tick) // gone (as after a Redis restart), nobody took it
	if h, _ := b.Holder(c, "r"); h != "" {
		t.Fatalf("holder %q, want none", h)
	}
	must(t, a.Renew(c, l))
	if h, _ := b.Holder(c, "r"); h != "A" {
		t.Fatalf("holder %q after the renewal re-asserted it, want A", h)
	}
	must(t, a.Release(c, l))
}

func recv(t *testing.T, s coord.Subscription) coord.Event {
	t.Helper()
	select {
	case e, ok := <-s.Events():
		if !ok {
			t.Fatal("subscription closed")
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return coord.Event{}
}

func testPubSub(t *testing.T, open func() coord.Coordinator) {
	a, b, p := open(), open(), open()
	c := ctx(t)
	sa, err := a.Subscribe(c)
	must(t, err)
	sb, err := b.Subscribe(c)
	must(t, err)
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	sent := []coord.Event{
		{Type: coord.ParticipantJoined, Room: "s1", Node: "n1", Participant: "p1", At: at},
		{Type: coord.HostAction, Room: "s1", Node: "n1", Participant: "p0", Action: "mute", Target: "p1", At: at},
		{Type: coord.ParticipantLeft, Room: "s1", Node: "n1", Participant: "p1", At: at},
		{Type: coord.SessionEnded, Room: "s2", Node: "n2", At: at},
	}
	for _, e := range sent {
		must(t, p.Publish(c, e))
	}
	for _, s := range []coord.Subscription{sa, sb} {
		for i, want := range sent {
			got := recv(t, s)
			if !got.At.Equal(want.At) {
				t.Fatalf("event %d at %v, want %v", i, got.At, want.At)
			}
			got.At = want.At
			if got != want {
				t.Fatalf("event %d: %+v, want %+v", i, got, want)
			}
		}
	}
	// Without At, the publisher stamps it.
	must(t, p.Publish(c, coord.Event{Type: coord.SessionEnded, Room: "s3"}))
	if e := recv(t, sa); e.Room != "s3" || e.At.IsZero() {
		t.Fatalf("event %+v", e)
	}
	// A closed subscription's channel closes; the others still receive.
	must(t, sa.Close())
	must(t, sa.Close())
	for range sa.Events() {
	}
	must(t, p.Publish(c, coord.Event{Type: coord.SessionEnded, Room: "s4"}))
	if e := recv(t, sb); e.Room != "s3" {
		t.Fatalf("event %+v, want s3", e)
	}
	if e := recv(t, sb); e.Room != "s4" {
		t.Fatalf("event %+v, want s4", e)
	}
	must(t, sb.Close())
}

func testPlace(t *testing.T, open func() coord.Coordinator) {
	a := open()
	c := ctx(t)
	if _, err := coord.Place(c, a, "r"); !errors.Is(err, coord.ErrNoNodes) {
		t.Fatalf("place with no nodes: %v, want ErrNoNodes", err)
	}
	must(t, a.Register(c, coord.NodeInfo{ID: "busy", URL: "u-busy", Load: coord.Load{Rooms: 3, Participants: 9, Tracks: 18}}))
	must(t, a.Register(c, coord.NodeInfo{ID: "hot", URL: "u-hot", Load: coord.Load{Rooms: 1, Participants: 1, CPU: 0.9}}))
	must(t, a.Register(c, coord.NodeInfo{ID: "idle", URL: "u-idle", Load: coord.Load{Rooms: 1, Participants: 2, Tracks: 4, CPU: 0.05}}))
	n, err := coord.Place(c, a, "r")
	must(t, err)
	if n.ID != "idle" || n.URL != "u-idle" {
		t.Fatalf("placed on %+v, want idle", n)
	}
	// A leased room stays with its holder, however loaded.
	_, err = a.Acquire(c, "r", "busy")
	must(t, err)
	n, err = coord.Place(c, a, "r")
	must(t, err)
	if n.ID != "busy" {
		t.Fatalf("placed on %s, want the holder busy", n.ID)
	}
	// A room leased to a node that stopped reporting waits for its lease.
	_, err = a.Acquire(c, "r2", "dead")
	must(t, err)
	if _, err := coord.Place(c, a, "r2"); !errors.Is(err, coord.ErrHolderGone) {
		t.Fatalf("place of a dead node's room: %v, want ErrHolderGone", err)
	}
}

func testMember(t *testing.T, open func() coord.Coordinator) {
	a, b := open(), open()
	c := ctx(t)
	var load atomic.Int32
	m := coord.NewMember(a, coord.MemberConfig{Interval: tick, Self: func() coord.NodeInfo {
		return coord.NodeInfo{ID: "m", URL: "https://m.example", Load: coord.Load{Rooms: int(load.Load())}}
	}})
	m.Start()
	if !m.Healthy() {
		t.Fatal("member not healthy after Start")
	}
	nodes, err := b.Nodes(c)
	must(t, err)
	if fmt.Sprint(ids(nodes)) != "[m]" {
		t.Fatalf("nodes %v", ids(nodes))
	}
	l, err := m.Acquire(c, "r")
	must(t, err)
	l2, err := m.Acquire(c, "r")
	must(t, err)
	if l2 != l || !m.Holds("r") {
		t.Fatalf("second acquire %+v, first %+v", l2, l)
	}
	load.Store(1)
	// Three TTLs later the member is still registered, with its new load,
	// and still holds the room.
	time.Sleep(3 * ttl)
	nodes, err = b.Nodes(c)
	must(t, err)
	if len(nodes) != 1 || nodes[0].Load.Rooms != 1 {
		t.Fatalf("nodes %+v", nodes)
	}
	if h, _ := b.Holder(c, "r"); h != "m" {
		t.Fatalf("holder %q, want m", h)
	}
	if _, err := b.Acquire(c, "r", "other"); !errors.Is(err, coord.ErrLeased) {
		t.Fatalf("acquire of the member's room: %v", err)
	}
	must(t, m.Release(c, "r"))
	if h, _ := b.Holder(c, "r"); h != "" || m.Holds("r") {
		t.Fatalf("holder %q after release", h)
	}
	_, err = m.Acquire(c, "r3")
	must(t, err)
	must(t, m.Close(c))
	nodes, err = b.Nodes(c)
	must(t, err)
	if len(nodes) != 0 {
		t.Fatalf("nodes %v after Close", ids(nodes))
	}
	if h, _ := b.Holder(c, "r3"); h != "" {
		t.Fatalf("holder %q after Close", h)
	}
}

func testMemberLost(t *testing.T, open func() coord.Coordinator) {
	a, b := open(), open()
	c := ctx(t)
	lost := make(chan string, 1)
	// The member stalls: no renewal happens unless the test ticks it.
	m := coord.NewMember(a, coord.MemberConfig{Interval: time.Hour, OnLost: func(r string) { lost <- r },
		Self: func() coord.NodeInfo { return coord.NodeInfo{ID: "m"} }})
	m.Start()
	defer m.Close(c)
	_, err := m.Acquire(c, "r")
	must(t, err)
	time.Sleep(ttl + tick) // its lease expires, and another node takes the room
	_, err = b.Acquire(c, "r", "other")
	must(t, err)
	m.Tick(c)
	select {
	case r := <-lost:
		if r != "r" {
			t.Fatalf("lost %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnLost not called")
	}
	if m.Holds("r") {
		t.Fatal("member still holds r")
	}
	if h, _ := b.Holder(c, "r"); h != "other" {
		t.Fatalf("holder %q, want other", h)
	}
}
