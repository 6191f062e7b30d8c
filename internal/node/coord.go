package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/coord"
	"github.com/kuayang/kuayang/internal/metrics"
	"github.com/kuayang/kuayang/signaling"
)

// openCoord opens the coordination backend: Redis with --redis-url (a
// node of several), else the in-process one (a single node). A Redis that
// does not answer yet is no reason not to start: the node keeps trying.
func (n *Node) openCoord(ctx context.Context) error {
	if n.cfg.RedisURL == "" {
		n.coordMetrics = metrics.NewCoord(coord.NewMemory(coord.Options{}))
		n.coord = n.coordMetrics
		return nil
	}
	r, err := coord.OpenRedis(n.cfg.RedisURL, coord.Options{})
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.coordMetrics = metrics.NewCoord(r)
	n.coord = n.coordMetrics
	coord.SetRedisLogger(n.log)
	if err := r.Ping(ctx); err != nil {
		n.log.Warn("Redis does not answer yet; rooms on other nodes cannot be joined until it does", "err", err)
	}
	return nil
}

// startMember registers the node and starts reporting its load (the
// public URL is known once the node listens).
func (n *Node) startMember() {
	n.member = coord.NewMember(n.coord, coord.MemberConfig{Self: n.self, Logger: n.log.With("component", "coord"),
		OnLost: n.leaseLost, Hosted: n.sig.Rooms})
	n.member.Start()
	n.loops.Add(1)
	go n.followEvents()
}

// leaseLost: another node took a room this node hosted (this node could
// not renew in time). Its clients reconnect and are sent there.
func (n *Node) leaseLost(room string) {
	n.log.Warn("room now hosted by another node; disconnecting its clients here", "session", room)
	n.sig.Moved(room)
	n.archive.Handoff(room)
}

// archiveRooms implements archive.Rooms over the membership: the node
// recording a session holds its room's lease.
type archiveRooms struct{ n *Node }

func (r archiveRooms) Acquire(ctx context.Context, sessionID string) error {
	if r.n.member == nil {
		return coord.ErrUnavailable
	}
	_, err := r.n.member.Acquire(ctx, sessionID)
	return err
}

func (r archiveRooms) Release(sessionID string) { r.n.releaseRoom(sessionID) }

func (r archiveRooms) Live(node string) (live, ok bool) {
	m := r.n.member
	if m == nil || !m.Healthy() {
		return false, false
	}
	for _, o := range m.Nodes() {
		if o.ID == node {
			return true, true
		}
	}
	return false, true
}

// self is this node's registration: id, URLs and load.
func (n *Node) self() coord.NodeInfo {
	st := n.media.Stats()
	info := coord.NodeInfo{ID: n.cfg.NodeID, URL: n.cfg.PublicURL, Updated: time.Now(),
		Load: coord.Load{Rooms: st.Rooms, Participants: st.Participants, Tracks: st.Tracks, CPU: n.cpu.Share()}}
	if a := n.media.Addrs().UDP; a != nil {
		host := a.IP.String()
		if n.cfg.PublicIP != "" {
			host = n.cfg.PublicIP
		}
		info.UDPAddr = net.JoinHostPort(host, strconv.Itoa(a.Port))
	}
	return info
}

// closeCoord releases this node's leases, deregisters it and closes the
// backend.
func (n *Node) closeCoord(ctx context.Context) error {
	var errs []error
	if n.member != nil {
		if err := n.member.Close(ctx); err != nil && !errors.Is(err, coord.ErrUnavailable) {
			errs = append(errs, err)
		}
	}
	if n.coord != nil {
		errs = append(errs, n.coord.Close())
	}
	return errors.Join(errs...)
}

// cpuMeter measures the share of the machine's CPU the process used since
// it was last asked.
type cpuMeter struct {
	mu       sync.Mutex
	lastWall time.Time
	lastCPU  time.Duration
	share    float64
}

// Share is the CPU share (0 to 1) over the last interval of at least a
// second.
func (m *cpuMeter) Share() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	now, used := time.Now(), processCPU()
	if used < 0 {
		return 0
	}
	if !m.lastWall.IsZero() {
		wall := now.Sub(m.lastWall)
		if wall < time.Second {
			return m.share
		}
		m.share = min(1, max(0, float64(used-m.lastCPU)/float64(wall)/float64(numCPU())))
	}
	m.lastWall, m.lastCPU = now, used
	return m.share
}

// placeMargin is how much less loaded (in coord.Load.Score units) another
// node must be before a new room is sent there rather than hosted here;
// the margin keeps two nodes from sending a room back and forth on load
// reports a few seconds old.
const placeMargin = 4

// lingerRelease is how long an emptied room's lease is kept, so that
// someone who reconnects at once comes back to the same node.
const lingerRelease = 5 * time.Second

// placement implements signaling.Placement over the coordinator.
type placement struct{ n *Node }

// Claim implements signaling.Placement: a room this node holds stays here;
// a room leased to another live node is there; a new room goes to the
// least-loaded node (this one unless another is clearly less loaded), and
// this node takes its lease when it is the one.
func (p placement) Claim(ctx context.Context, sessionID string) (string, error) {
	n := p.n
	m := n.member
	if m.Holds(sessionID) {
		return "", nil
	}
	if err := p.awaitRecovery(ctx, sessionID); err != nil {
		return "", err
	}
	target, err := coord.Place(ctx, n.coord, sessionID)
	switch {
	case errors.Is(err, coord.ErrNoNodes):
		// This node is not registered yet (it has just started, or Redis
		// has just come back): host the room here.
	case err != nil:
		return "", err
	case target.ID == n.cfg.NodeID:
	default:
		holder, err := n.coord.Holder(ctx, sessionID)
		if err != nil {
			return "", err
		}
		if holder == target.ID {
			return target.URL, nil // leased there
		}
		if self, ok := p.selfLoad(); !ok || self.Score()-target.Load.Score() >= placeMargin {
			return target.URL, nil // a new room for a less loaded node
		}
	}
	_, err = m.Acquire(ctx, sessionID)
	var le *coord.LeasedError
	if errors.As(err, &le) && le.Holder != n.cfg.NodeID {
		// Another node took it a moment ago.
		for _, o := range m.Nodes() {
			if o.ID == le.Holder {
				return o.URL, nil
			}
		}
		if t, err := coord.Place(ctx, n.coord, sessionID); err == nil && t.ID == le.Holder {
			return t.URL, nil
		}
	}
	return "", err
}

// recovering is a coordinator that can tell that it lost its state a
// moment ago (coord.Redis after a Redis restart).
type recovering interface {
	Recovering(ctx context.Context) (bool, error)
}

// awaitRecovery: right after Redis lost its state, a room without a lease
// may be running on a node that has not re-asserted its lease yet (it
// does within a membership round). Placing it anew would start a second
// room elsewhere, and the node hosting the call would then hand its
// participants over to it. So while the state is recovering, wait until
// the room is leased or the recovery is over; a new room is placed a
// little later, a running one is found where it is.
func (p placement) awaitRecovery(ctx context.Context, sessionID string) error {
	r, ok := p.n.coord.(recovering)
	if !ok {
		return nil
	}
	for logged := false; ; logged = true {
		rec, err := r.Recovering(ctx)
		if err != nil || !rec {
			return err
		}
		if h, err := p.n.coord.Holder(ctx, sessionID); err != nil || h != "" {
			return err
		}
		if !logged {
			p.n.log.Info("Redis lost its state a moment ago; waiting for the nodes to re-assert their rooms before placing this one",
				"session", sessionID)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: waiting for the nodes to re-assert their rooms: %w", coord.ErrUnavailable, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// selfLoad is this node's load as it last reported it.
func (p placement) selfLoad() (coord.Load, bool) {
	for _, o := range p.n.member.Nodes() {
		if o.ID == p.n.cfg.NodeID {
			return o.Load, true
		}
	}
	return coord.Load{}, false
}

// Vacated implements signaling.Placement: the lease of an emptied room is
// released after a short linger, if nobody has come back.
func (p placement) Vacated(sessionID string) {
	time.AfterFunc(lingerRelease, func() {
		n := p.n
		select {
		case <-n.stop:
			return
		default:
		}
		if n.archive.Holds(sessionID) {
			return // the session's recording goes on (its grace period): keep the room here
		}
		n.releaseRoom(sessionID)
	})
}

// releaseRoom gives up a room's lease, unless people are connected to it
// here (they came back).
func (n *Node) releaseRoom(sessionID string) {
	if n.member == nil || len(n.sig.Present(sessionID)) > 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.member.Release(ctx, sessionID); err != nil {
		n.log.Warn("releasing room lease", "session", sessionID, "err", err)
	}
}

// nodeOrigin reports whether origin is the public URL of a live node of
// the installation (their pages may open this node's websocket and ask it
// for a join token when a room lives here).
func (n *Node) nodeOrigin(origin string) bool {
	if n.member == nil {
		return false
	}
	for _, o := range n.member.Nodes() {
		if o.URL != "" && strings.EqualFold(strings.TrimSuffix(o.URL, "/"), origin) {
			return true
		}
	}
	return false
}

// joinCORS lets the pages of the other nodes call POST /api/v1/join here,
// which a client redirected to this node does.
func (n *Node) joinCORS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && n.nodeOrigin(o) {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Add("Vary", "Origin")
			if r.Method == http.MethodOptions {
				w.Header().Set("Access-Control-Allow-Methods", "POST")
				w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
				w.Header().Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Member is this node's membership of the installation (registration and
// room leases).
func (n *Node) Member() *coord.Member { return n.member }

// Present lists the participants connected to a session on this node.
func (n *Node) Present(sessionID string) []string { return n.sig.Present(sessionID) }

// eventLifecycle publishes participants joining and leaving as room
// events, besides telling the archive.
type eventLifecycle struct {
	n    *Node
	next signaling.Lifecycle
}

func (l eventLifecycle) Joined(sess *cases.Session, pid string) error {
	if err := l.next.Joined(sess, pid); err != nil {
		return err
	}
	l.n.publish(coord.Event{Type: coord.ParticipantJoined, Room: sess.ID, Participant: pid})
	return nil
}

// Private implements signaling.Privacy: the archive pauses the recording
// of a participant in a private room that is not recorded, and seals that
// of one in a recorded private room.
func (l eventLifecycle) Private(sessionID, pid string, private bool, sealedTo string) {
	l.n.archive.Private(sessionID, pid, private, sealedTo)
}

func (l eventLifecycle) Left(sess *cases.Session, pid string, remaining int) {
	l.next.Left(sess, pid, remaining)
	l.n.publish(coord.Event{Type: coord.ParticipantLeft, Room: sess.ID, Participant: pid})
}

// hostAction publishes a host's action on a participant as a room event.
func (n *Node) hostAction(sessionID, host, action, target string) {
	n.publish(coord.Event{Type: coord.HostAction, Room: sessionID, Participant: host, Action: action, Target: target})
}

// publish sends a room event to the other nodes without waiting; an event
// that cannot be sent (Redis down) is logged and dropped.
func (n *Node) publish(e coord.Event) {
	e.Node, e.At = n.cfg.NodeID, time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := n.coord.Publish(ctx, e); err != nil && !errors.Is(err, coord.ErrClosed) {
			n.log.Debug("room event not published", "type", e.Type, "session", e.Room, "err", err)
		}
	}()
}

// followEvents acts on the room events of the other nodes until the node
// stops: a session ended elsewhere (by staff on another node) ends here
// too. It subscribes again while Redis is unreachable.
func (n *Node) followEvents() {
	defer n.loops.Done()
	for {
		sub, err := n.coord.Subscribe(context.Background())
		if err == nil {
			n.handleEvents(sub)
			_ = sub.Close()
		}
		select {
		case <-n.stop:
			return
		case <-time.After(coord.DefaultInterval):
		}
	}
}

func (n *Node) handleEvents(sub coord.Subscription) {
	for {
		select {
		case <-n.stop:
			return
		case e, ok := <-sub.Events():
			if !ok {
				return
			}
			if e.Node == n.cfg.NodeID {
				continue
			}
			switch {
			case e.Type == coord.SessionEnded && (len(n.sig.Present(e.Room)) > 0 || n.member.Holds(e.Room)):
				n.log.Info("session ended on another node", "session", e.Room, "by", e.Node)
				n.sig.EndSession(e.Room)
				n.archive.End(e.Room)
			case e.Type == coord.HostAction && e.Action == "remove":
				// The removed participant may be connected here for a moment
				// (on their way to the room's node after a move).
				if n.sig.RemoveParticipant(e.Room, e.Target) {
					n.log.Info("participant removed by a host on another node", "session", e.Room, "participant", e.Target, "by", e.Node)
				}
			}
		}
	}
}
