package test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kuayang/kuayang/internal/blob/miniotest"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/store/postgres"
	"github.com/kuayang/kuayang/internal/testpg"
	"github.com/kuayang/kuayang/internal/testredis"
)

// These tests run the nodes of an installation as separate `kuayang
// serve` processes on loopback, sharing one PostgreSQL database, one
// Redis key space and one MinIO bucket, as docs/deploy.md sets them up.
// Each node's log is a file in the test's temporary directory, printed
// when the test fails.

// serveCluster is what the processes of one test share.
type serveCluster struct {
	t        *testing.T
	bin      string
	pg       string // PostgreSQL URL (a fresh database)
	redisURL string // with the test's key prefix
	prefix   string // the Redis key prefix
	rdb      *redis.Client
	s3       string
	logDir   string
	nodes    []*serveNode
	extra    []string // more flags for every node
	db       *postgres.DB
	accounts []map[string]string // the demo staff accounts
}

// serveNode is one `kuayang serve` process.
type serveNode struct {
	id      string
	url     string // public URL, http://127.0.0.1:<port>
	dataDir string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
}

// newServeCluster gets a database, a Redis key space on the server of
// redisURL (the shared test server when empty) and a bucket, and builds
// the binary. It starts no node.
func newServeCluster(t *testing.T, redisURL string) *serveCluster {
	t.Helper()
	if redisURL == "" {
		redisURL = testredis.URL(t) // skips loudly without a server, fails under CI
	}
	pg := testpg.URL(t)
	s3 := miniotest.Shared(t).URL("cluster-" + strings.ToLower(store.NewID()[:12]))
	c := &serveCluster{t: t, bin: kuayangBinary(t), pg: pg, redisURL: redisURL, prefix: testredis.Prefix(redisURL),
		s3: s3, logDir: t.TempDir()}
	c.rdb = testredis.Client(t, redisURL)
	return c
}

// start starts a node with the id node-<k> (k counting from 1) and waits
// until it serves; with demo it creates the demo accounts (the first node
// only: the others share its database).
func (c *serveCluster) start(demo bool) *serveNode {
	t := c.t
	t.Helper()
	id := fmt.Sprintf("node-%d", len(c.nodes)+1)
	n := &serveNode{id: id, dataDir: filepath.Join(c.logDir, id), logPath: filepath.Join(c.logDir, id+".log")}
	t.Cleanup(func() { // runs after the process is killed (cleanups run last first)
		if t.Failed() {
			raw, _ := os.ReadFile(n.logPath)
			t.Logf("---- log of %s (%s) ----\n%s---- end of the log of %s ----", n.id, n.url, raw, n.id)
		}
	})
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if err = c.run(n, demo); err == nil {
			c.nodes = append(c.nodes, n)
			return n
		}
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
		t.Logf("%s: a port was taken meanwhile, trying other ports: %v", id, err)
	}
	raw, _ := os.ReadFile(n.logPath)
	t.Fatalf("%s did not start: %v\n%s", id, err, raw)
	return nil
}

// run starts n's process on fresh loopback ports and waits for its URL.
func (c *serveCluster) run(n *serveNode, demo bool) error {
	t := c.t
	httpPort, udpPort := freePort(t), freePort(t)
	n.url = "http://127.0.0.1:" + strconv.Itoa(httpPort)
	args := []string{"serve", "--node-id", n.id, "--data-dir", n.dataDir,
		"--http-addr", "127.0.0.1:" + strconv.Itoa(httpPort), "--public-url", n.url,
		"--udp-port", strconv.Itoa(udpPort), "--tcp-port", "0", "--public-ip", "127.0.0.1",
		"--postgres-url", c.pg, "--redis-url", c.redisURL, "--s3-url", c.s3}
	args = append(args, c.extra...)
	if demo {
		args = append(args, "--demo")
	}
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(logf, "$ kuayang %s\n", strings.Join(args, " "))
	cmd := exec.Command(c.bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	cmd.SysProcAttr = childProcAttr()
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("%s: %v", n.id, err)
	}
	done := make(chan struct{})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if strings.HasPrefix(sc.Text(), "Kuayang is running at ") && !seen {
				seen = true
				close(ready)
			}
		}
	}()
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	select {
	case <-ready:
	case <-done:
		return fmt.Errorf("exited: %v", cmd.ProcessState)
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return errors.New("no \"Kuayang is running at\" within 60s")
	}
	n.cmd, n.done = cmd, done
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	return nil
}

// startNodes starts k nodes: the first with the demo records, then the
// others together; it waits until every node is registered in Redis.
func (c *serveCluster) startNodes(k int) {
	c.t.Helper()
	c.start(true)
	for range k - 1 {
		c.start(false)
	}
	c.waitRegistered(30 * time.Second)
}

// waitRegistered waits until every node's registration is in Redis.
func (c *serveCluster) waitRegistered(d time.Duration) {
	t := c.t
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var missing []string
		for _, n := range c.nodes {
			if c.rdb.Exists(context.Background(), c.prefix+"node:"+n.id).Val() != 1 {
				missing = append(missing, n.id)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, nodes %v are not registered in Redis (%s)", d, missing, c.redisURL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// holder is the node id that holds room's lease in Redis ("" for none).
func (c *serveCluster) holder(room string) string {
	v, err := c.rdb.Get(context.Background(), c.prefix+"lease:"+room).Result()
	if err != nil {
		return ""
	}
	id, _, _ := strings.Cut(v, "|")
	return id
}

// nodeAt names the node whose public URL is u.
func (c *serveCluster) nodeAt(u string) string {
	for _, n := range c.nodes {
		if n.url == u {
			return n.id
		}
	}
	return "no node (" + u + ")"
}

// node is the node with id.
func (c *serveCluster) node(id string) *serveNode {
	for _, n := range c.nodes {
		if n.id == id {
			return n
		}
	}
	c.t.Fatalf("no node %q", id)
	return nil
}

// session creates, through node 1's API as the demo clerk, a case, a
// session and k party invites (party-1, party-2, ...); it returns the
// session id and the invite tokens.
func (c *serveCluster) session(k int) (string, []string) {
	return c.newSession(k, false)
}

// staff signs in through node n as the demo account of role (node 1
// created the demo accounts).
func (c *serveCluster) staff(n *serveNode, role string) *apiClient {
	t := c.t
	t.Helper()
	if c.accounts == nil { // read once: node 1's data directory may go later
		var demo struct {
			Accounts []map[string]string `json:"accounts"`
		}
		n1 := c.nodes[0]
		waitFor(t, 30*time.Second, n1.id+"'s demo.json", func() bool {
			raw, err := os.ReadFile(filepath.Join(n1.dataDir, "demo.json"))
			return err == nil && json.Unmarshal(raw, &demo) == nil && len(demo.Accounts) > 0
		})
		c.accounts = demo.Accounts
	}
	return staffClient(t, n.url, c.accounts, role)
}

// newSession is session, recorded or not.
func (c *serveCluster) newSession(k int, record bool) (string, []string) {
	t := c.t
	t.Helper()
	n1 := c.nodes[0]
	clerk := c.staff(n1, "clerk")
	status, cs := clerk.do("POST", "/api/v1/cases", map[string]string{"kind": "mediation",
		"number": "CLUSTER-" + strings.ToUpper(store.NewID()[:8]), "title": "Several processes"})
	if status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("creating a case on %s: %d %v", n1.id, status, cs)
	}
	status, sess := clerk.do("POST", "/api/v1/cases/"+cs["id"].(string)+"/sessions", map[string]any{
		"title": "Across nodes", "scheduled_start": time.Now().Format(time.RFC3339), "time_zone": "UTC", "record": record})
	if status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("creating a session on %s: %d %v", n1.id, status, sess)
	}
	sid := sess["id"].(string)
	var invites []string
	for i := range k {
		name := fmt.Sprintf("party-%d", i+1)
		status, inv := clerk.do("POST", "/api/v1/sessions/"+sid+"/invites", map[string]string{"name": name, "role": "party"})
		if status != http.StatusOK && status != http.StatusCreated {
			t.Fatalf("creating invite %d on %s: %d %v", i+1, n1.id, status, inv)
		}
		u, _ := inv["url"].(string)
		j := strings.LastIndex(u, "/join/")
		if j < 0 {
			t.Fatalf("invite link %q has no /join/", u)
		}
		invites = append(invites, u[j+len("/join/"):])
	}
	return sid, invites
}

// enter joins a client through node n (following a redirect) and checks
// it ended up on the node holding the room's lease.
func (c *serveCluster) enter(n *serveNode, sid, invite string) *client {
	c.t.Helper()
	return c.enterWith(n, sid, invite, nil)
}

// enterWith is enter for a client sending media (nil: synthetic frames).
func (c *serveCluster) enterWith(n *serveNode, sid, invite string, media *clip) *client {
	t := c.t
	t.Helper()
	cl := connectTo(t, n.url, invite, media)
	on := c.nodeAt(cl.base)
	t.Logf("%s entered through %s, joined on %s after %d redirect(s)", cl.name, n.id, on, cl.redirects)
	if h := c.holder(sid); h != on {
		t.Fatalf("%s joined on %s, but the room's lease is held by %q", cl.name, on, h)
	}
	switch {
	case cl.base == n.url && cl.redirects != 0:
		t.Fatalf("%s: entered through %s, the host, yet was redirected %d times", cl.name, n.id, cl.redirects)
	case cl.base != n.url && (cl.redirects != 1 || cl.redirectedFrom != n.url):
		t.Fatalf("%s: entered through %s, joined on %s after %d redirects from %s, want one redirect",
			cl.name, n.id, on, cl.redirects, c.nodeAt(cl.redirectedFrom))
	}
	return cl
}

// mediaFlows waits until every client receives at least k video and k
// audio packets from every other.
func (c *serveCluster) mediaFlows(k int, clients ...*client) {
	t := c.t
	t.Helper()
	for _, to := range clients {
		for _, from := range clients {
			if to == from {
				continue
			}
			waitFor(t, 15*time.Second, fmt.Sprintf("%s (on %s) receiving %d video and audio packets from %s (on %s)",
				to.name, c.nodeAt(to.base), k, from.name, c.nodeAt(from.base)), func() bool {
				r := to.got(from.self)
				return r.videoPackets >= k && r.audioPackets >= k
			})
		}
	}
}

// inOneRoom checks that the clients all joined on one node.
func (c *serveCluster) inOneRoom(clients ...*client) *serveNode {
	c.t.Helper()
	for _, cl := range clients {
		if cl.base != clients[0].base {
			c.t.Fatalf("%s is on %s and %s on %s: not one room", clients[0].name, c.nodeAt(clients[0].base),
				cl.name, c.nodeAt(cl.base))
		}
	}
	return c.node(c.nodeAt(clients[0].base))
}

// testClusterProcesses: k nodes; client i enters through node i; all end
// up in one room on the node that holds its lease, with media every way.
func testClusterProcesses(t *testing.T, k int) {
	start := time.Now()
	c := newServeCluster(t, "")
	c.startNodes(k)
	t.Logf("%d nodes up in %s", k, time.Since(start).Round(time.Millisecond))
	sid, invites := c.session(k)
	p1 := c.enter(c.nodes[0], sid, invites[0])
	p2 := c.enter(c.nodes[1], sid, invites[1])
	if p1.redirects+p2.redirects != 1 {
		t.Fatalf("%d redirects for two clients entering through two nodes, want 1", p1.redirects+p2.redirects)
	}
	clients := []*client{p1, p2}
	c.mediaFlows(10, clients...)
	if k >= 3 {
		clients = append(clients, c.enter(c.nodes[2], sid, invites[2]))
	}
	host := c.inOneRoom(clients...)
	c.mediaFlows(10, clients...)
	t.Logf("%d clients in one room on %s with media every way, %s after start", len(clients), host.id,
		time.Since(start).Round(time.Millisecond))
}

func TestClusterTwoProcesses(t *testing.T)   { testClusterProcesses(t, 2) }
func TestClusterThreeProcesses(t *testing.T) { testClusterProcesses(t, 3) }

// redisServer is a redis-server process of a test's own, on a fixed
// loopback port across restarts, without persistence.
type redisServer struct {
	t       *testing.T
	bin     string
	port    int
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// newRedisServer starts a private Redis server. Without redis-server the
// test is skipped loudly, except under CI, where it fails.
func newRedisServer(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no redis-server on PATH, and CI never skips: %v", err)
		}
		t.Skipf("\n*** SKIPPING: this test runs a Redis server of its own and needs redis-server on PATH: %v ***", err)
	}
	s := &redisServer{t: t, bin: bin, logPath: filepath.Join(t.TempDir(), "redis.log")}
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			raw, _ := os.ReadFile(s.logPath)
			t.Logf("---- log of redis-server :%d ----\n%s---- end of the Redis log ----", s.port, raw)
		}
	})
	for attempt := 1; ; attempt++ {
		s.port = freePort(t)
		if err = s.start(); err == nil {
			return s
		}
		if attempt == 3 {
			t.Fatalf("redis-server: %v", err)
		}
	}
}

// URL is the server's URL with a key prefix.
func (s *redisServer) URL(prefix string) string {
	return testredis.WithPrefix(fmt.Sprintf("redis://127.0.0.1:%d/0", s.port), prefix)
}

// start runs redis-server on s.port and waits until it answers PING.
func (s *redisServer) start() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	cmd.Dir = filepath.Dir(s.logPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for !redisPing(s.port) {
		select {
		case <-done:
			raw, _ := os.ReadFile(s.logPath)
			return fmt.Errorf("exited (%v):\n%s", cmd.ProcessState, raw)
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return errors.New("no answer to PING within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	return nil
}

// kill stops the server with SIGKILL (every key is lost).
func (s *redisServer) kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		<-done
	}
}

// restart starts the server again on the same port.
func (s *redisServer) restart() {
	s.t.Helper()
	var err error
	for range 50 { // the port may take a moment to be free again
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("restarting redis-server on port %d: %v", s.port, err)
}

// redisPing reports whether a Redis server answers PING on port.
func redisPing(port int) bool {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 500*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(conn, "PING\r\n"); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// mediaWatch samples what clients receive from each other and keeps the
// longest time any of them went without a new packet from another.
type mediaWatch struct {
	mu       sync.Mutex
	last     map[[2]*client]received
	lastAt   map[[2]*client]time.Time
	stall    map[[2]*client]time.Duration
	stop     chan struct{}
	finished chan struct{}
}

func watchMedia(clients ...*client) *mediaWatch {
	w := &mediaWatch{last: map[[2]*client]received{}, lastAt: map[[2]*client]time.Time{},
		stall: map[[2]*client]time.Duration{}, stop: make(chan struct{}), finished: make(chan struct{})}
	now := time.Now()
	for _, to := range clients {
		for _, from := range clients {
			if to != from {
				k := [2]*client{to, from}
				w.last[k], w.lastAt[k] = to.got(from.self), now
			}
		}
	}
	go func() {
		defer close(w.finished)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
			w.sample()
		}
	}()
	return w
}

func (w *mediaWatch) sample() {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	for k, was := range w.last {
		r := k[0].got(k[1].self)
		if r.videoPackets > was.videoPackets && r.audioPackets > was.audioPackets {
			w.last[k], w.lastAt[k] = r, now
			continue
		}
		w.stall[k] = max(w.stall[k], now.Sub(w.lastAt[k]))
	}
}

// end stops sampling and fails the test if any client went longer than
// limit without video or audio from another.
func (w *mediaWatch) end(t *testing.T, c *serveCluster, limit time.Duration) {
	t.Helper()
	close(w.stop)
	<-w.finished
	w.sample()
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, d := range w.stall {
		if d > limit {
			t.Errorf("%s (on %s) went %s without video or audio from %s (on %s); the limit is %s",
				k[0].name, c.nodeAt(k[0].base), d.Round(time.Millisecond), k[1].name, c.nodeAt(k[1].base), limit)
		}
	}
}

// snapshotMedia is what every client got from every other so far.
func snapshotMedia(clients ...*client) map[[2]*client]received {
	out := map[[2]*client]received{}
	for _, to := range clients {
		for _, from := range clients {
			if to != from {
				out[[2]*client{to, from}] = to.got(from.self)
			}
		}
	}
	return out
}

// mediaGrew checks that between two snapshots every client received at
// least k more video and audio packets from every other.
func mediaGrew(t *testing.T, c *serveCluster, what string, before, after map[[2]*client]received, k int) {
	t.Helper()
	for key, b := range before {
		a := after[key]
		dv, da := a.videoPackets-b.videoPackets, a.audioPackets-b.audioPackets
		t.Logf("%s: %s got %d video and %d audio packets from %s", what, key[0].name, dv, da, key[1].name)
		if dv < k || da < k {
			t.Errorf("%s: %s (on %s) got only %d video and %d audio packets from %s (on %s), want at least %d each",
				what, key[0].name, c.nodeAt(key[0].base), dv, da, key[1].name, c.nodeAt(key[1].base), k)
		}
	}
}

// stillConnected fails the test if a client was told goodbye or lost
// its websocket.
func stillConnected(t *testing.T, clients ...*client) {
	t.Helper()
	for _, cl := range clients {
		for {
			var m map[string]any
			var ok bool
			select {
			case m, ok = <-cl.msgs:
				if !ok {
					t.Fatalf("%s: the websocket to %s closed", cl.name, cl.base)
				}
			default:
				ok = false
			}
			if !ok {
				break
			}
			if m["type"] == "bye" || m["type"] == "error" {
				t.Fatalf("%s: the node said %v", cl.name, m)
			}
		}
	}
}

// TestClusterRedisRestartMidCall: two nodes share a Redis server of this
// test's own. A call runs between a client that entered through each node;
// Redis is killed (losing every key) and started again on the same port.
// Media keeps flowing throughout. A third client entering through the
// other node as soon as Redis answers again is sent into the same room
// (the host re-asserts its lease; the other node waits for that rather
// than placing the room anew), with media every way.
func TestClusterRedisRestartMidCall(t *testing.T) {
	t.Parallel() // separate processes, database, key space and bucket; mostly waiting (lease TTLs, an outage)
	start := time.Now()
	rs := newRedisServer(t)
	c := newServeCluster(t, rs.URL("kuayang-restart:"))
	c.startNodes(2)
	sid, invites := c.session(3)
	p1 := c.enter(c.nodes[0], sid, invites[0])
	p2 := c.enter(c.nodes[1], sid, invites[1])
	host := c.inOneRoom(p1, p2)
	other := c.nodes[0]
	if host == other {
		other = c.nodes[1]
	}
	c.mediaFlows(10, p1, p2)
	t.Logf("call running on %s, %s after start", host.id, time.Since(start).Round(time.Millisecond))

	// Redis goes away for two membership rounds (2 s each) and comes back
	// empty.
	watch := watchMedia(p1, p2)
	before := snapshotMedia(p1, p2)
	rs.kill()
	killedAt := time.Now()
	time.Sleep(4 * time.Second)
	during := snapshotMedia(p1, p2)
	mediaGrew(t, c, "while Redis was down", before, during, 30)
	rs.restart()
	back := time.Now()
	t.Logf("Redis down for %s, back without any key", back.Sub(killedAt).Round(time.Millisecond))

	// At once, before the host's next membership round has re-asserted the
	// room's lease, a new client enters through the other node: it must be
	// sent into the running room, not start a second one there.
	p3 := c.enter(other, sid, invites[2])
	if c.inOneRoom(p1, p2, p3); p3.redirects != 1 {
		t.Fatalf("%s entered through %s and was not redirected to %s", p3.name, other.id, host.id)
	}
	t.Logf("%s joined %s after Redis returned", p3.name, time.Since(back).Round(time.Millisecond))

	// Both nodes are registered again and the host holds the lease.
	c.waitRegistered(15 * time.Second)
	if h := c.holder(sid); h != host.id {
		t.Fatalf("after the Redis restart the room's lease is held by %q, want %s", h, host.id)
	}
	c.mediaFlows(10, p1, p2, p3)
	time.Sleep(time.Second)
	watch.end(t, c, 2*time.Second)
	mediaGrew(t, c, "after Redis returned", during, snapshotMedia(p1, p2), 30)
	stillConnected(t, p1, p2, p3)
	t.Logf("third client in the room on %s with media, %s after start", host.id, time.Since(start).Round(time.Millisecond))
}
