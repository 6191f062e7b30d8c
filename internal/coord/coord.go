// Package coord coordinates the nodes of one Kuayang installation: which
// nodes are alive and how loaded they are (the node registry), which node
// hosts which room (room leases), and the room events other nodes must see
// (room event bus).
//
// There are two implementations of Coordinator: Memory, in-process, for a
// single node (the default), and Redis, for several nodes sharing one Redis
// server (--redis-url). Both pass the conformance suite in coordtest.
//
// Registry: a node announces itself (Register) every Interval with a TTL;
// a node that stops announcing is gone from Nodes once its TTL has passed.
//
// Leases: a room (a session id) is leased to exactly one node. Acquire sets
// the lease only if nobody holds it (SET NX PX in Redis) under a random
// token; Renew extends it, and re-asserts it when it has vanished (expired,
// or a Redis restart lost it) as long as no other node has taken it;
// Release deletes it only when the token matches, so a holder whose lease
// expired and was taken over cannot release the new holder's lease.
//
// Events: Publish sends an Event to every subscriber on every node (Redis
// pub/sub, at most once: a subscriber that is disconnected while an event
// is published does not see it).
//
// When the backend is unreachable every call fails fast with an error that
// matches ErrUnavailable; Member keeps retrying and, when the backend
// returns, re-registers the node and re-asserts its leases, so state lost
// in a Redis restart is rebuilt from the live nodes.
package coord

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Errors. Test them with errors.Is.
var (
	// ErrUnavailable means the coordination backend (Redis) did not
	// answer in time or refused the connection. Retry later.
	ErrUnavailable = errors.New("coord: coordination unavailable")
	// ErrLeased means another node holds the room's lease; the error is
	// a *LeasedError naming the holder.
	ErrLeased = errors.New("coord: room leased to another node")
	// ErrLeaseLost means a renewal or release found the lease held by
	// someone else (the caller's lease expired and was taken over).
	ErrLeaseLost = errors.New("coord: lease lost")
	// ErrClosed means the Coordinator was closed.
	ErrClosed = errors.New("coord: closed")
	// ErrNoNodes means placement found no live node.
	ErrNoNodes = errors.New("coord: no live node")
	// ErrHolderGone means the room is leased to a node that no longer
	// reports; its lease expires within the lease TTL. Retry shortly.
	ErrHolderGone = errors.New("coord: room's node is gone, lease not yet expired")
)

// LeasedError is returned by Acquire when the lease is held by Holder.
type LeasedError struct {
	Room   string
	Holder string // node id
}

func (e *LeasedError) Error() string {
	return fmt.Sprintf("coord: room %s is leased to node %s", e.Room, e.Holder)
}

// Is makes errors.Is(err, ErrLeased) hold.
func (e *LeasedError) Is(target error) bool { return target == ErrLeased }

// Load is what a node reports about its work.
type Load struct {
	Rooms        int     `json:"rooms"`
	Participants int     `json:"participants"`
	Tracks       int     `json:"tracks"`
	CPU          float64 `json:"cpu"` // share of the machine's CPU the process used recently, 0 to 1
}

// Score orders nodes for placement: lower is less loaded. A participant
// counts 1 and a forwarded track 0.5; CPU counts only once the process
// uses more than half the machine (below that, participants and tracks
// say more than a noisy CPU reading), then up to 100 at a full machine.
func (l Load) Score() float64 {
	return float64(l.Participants) + 0.5*float64(l.Tracks) + 200*max(0, l.CPU-0.5)
}

// NodeInfo is one node's registration.
type NodeInfo struct {
	ID      string    `json:"id"`
	URL     string    `json:"url"`      // public URL (https://host:port)
	UDPAddr string    `json:"udp_addr"` // media address (host:port)
	Load    Load      `json:"load"`
	Updated time.Time `json:"updated"` // when the node reported
}

// Lease is a held room lease.
type Lease struct {
	Room  string
	Node  string
	Token string // random, proves ownership on renew and release
}

// value is what the backend stores for the lease: the holder and the
// token. Holder reads the node id back from it.
func (l Lease) value() string { return l.Node + "|" + l.Token }

func holderOf(v string) string {
	node, _, _ := strings.Cut(v, "|")
	return node
}

// NewLease makes a lease of room for node with a fresh random token.
func NewLease(room, node string) Lease {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return Lease{Room: room, Node: node, Token: hex.EncodeToString(b[:])}
}

// EventType names a room event.
type EventType string

// The room events.
const (
	ParticipantJoined EventType = "participant_joined"
	ParticipantLeft   EventType = "participant_left"
	HostAction        EventType = "host_action"
	SessionEnded      EventType = "session_ended"
)

// Event is a room event that every node sees.
type Event struct {
	Type        EventType `json:"type"`
	Room        string    `json:"room"`                  // session id
	Node        string    `json:"node"`                  // the node that published it
	Participant string    `json:"participant,omitempty"` // who joined or left, or who acted
	Action      string    `json:"action,omitempty"`      // host action: "mute", "remove", …
	Target      string    `json:"target,omitempty"`      // participant a host action is aimed at
	At          time.Time `json:"at"`
}

// Subscription receives events until closed.
type Subscription interface {
	// Events delivers the events; it is closed by Close.
	Events() <-chan Event
	Close() error
}

// Coordinator is the coordination backend.
type Coordinator interface {
	// Register announces or refreshes a node for the node TTL.
	Register(ctx context.Context, n NodeInfo) error
	// Deregister removes a node at once (clean shutdown).
	Deregister(ctx context.Context, id string) error
	// Nodes lists the live nodes, ordered by id.
	Nodes(ctx context.Context) ([]NodeInfo, error)

	// Acquire leases room to node for the lease TTL if nobody holds it;
	// otherwise it returns a *LeasedError (ErrLeased).
	Acquire(ctx context.Context, room, node string) (Lease, error)
	// Holder is the node holding room's lease, or "" when nobody does.
	Holder(ctx context.Context, room string) (string, error)
	// Renew extends l for the lease TTL. If the lease vanished (expired
	// with nobody taking it, or lost by a Redis restart) it is set again;
	// if another node holds it, Renew returns ErrLeaseLost.
	Renew(ctx context.Context, l Lease) error
	// Release gives up l if it is still held with l's token; otherwise
	// it returns ErrLeaseLost and changes nothing.
	Release(ctx context.Context, l Lease) error

	// Publish sends e to every subscriber.
	Publish(ctx context.Context, e Event) error
	// Subscribe receives every room event published after it returns.
	Subscribe(ctx context.Context) (Subscription, error)

	Close() error
}

// Options are the timings of a Coordinator.
type Options struct {
	NodeTTL  time.Duration // a registration lives this long (default 5 s)
	LeaseTTL time.Duration // a lease lives this long unless renewed (default 5 s)
	// OpTimeout bounds each backend call, so that an unreachable Redis
	// answers ErrUnavailable rather than hanging (default 1 s).
	OpTimeout time.Duration
	// Prefix is put before every Redis key and channel (default
	// "kuayang:"; a "prefix" query parameter of the Redis URL sets it).
	Prefix string
}

// Default timings.
const (
	DefaultNodeTTL   = 5 * time.Second
	DefaultLeaseTTL  = 5 * time.Second
	DefaultOpTimeout = time.Second
	DefaultInterval  = 2 * time.Second
	DefaultPrefix    = "kuayang:"
)

func (o Options) withDefaults() Options {
	if o.NodeTTL <= 0 {
		o.NodeTTL = DefaultNodeTTL
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = DefaultOpTimeout
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	return o
}

// LeastLoaded is the node with the lowest load score among nodes (ties:
// fewer rooms, then the smaller id), or false when nodes is empty.
func LeastLoaded(nodes []NodeInfo) (NodeInfo, bool) {
	if len(nodes) == 0 {
		return NodeInfo{}, false
	}
	best := slices.MinFunc(nodes, func(a, b NodeInfo) int {
		if c := cmpFloat(a.Load.Score(), b.Load.Score()); c != 0 {
			return c
		}
		if a.Load.Rooms != b.Load.Rooms {
			return a.Load.Rooms - b.Load.Rooms
		}
		return strings.Compare(a.ID, b.ID)
	})
	return best, true
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Place says which node should host room: the lease holder when the room
// is leased to a live node, else the least-loaded live node. A room leased
// to a node that no longer reports gives ErrHolderGone until the lease
// expires; no live node at all gives ErrNoNodes.
func Place(ctx context.Context, c Coordinator, room string) (NodeInfo, error) {
	holder, err := c.Holder(ctx, room)
	if err != nil {
		return NodeInfo{}, err
	}
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return NodeInfo{}, err
	}
	if holder != "" {
		for _, n := range nodes {
			if n.ID == holder {
				return n, nil
			}
		}
		return NodeInfo{}, fmt.Errorf("%w: room %s, node %s", ErrHolderGone, room, holder)
	}
	best, ok := LeastLoaded(nodes)
	if !ok {
		return NodeInfo{}, ErrNoNodes
	}
	return best, nil
}

func sortNodes(nodes []NodeInfo) {
	slices.SortFunc(nodes, func(a, b NodeInfo) int { return strings.Compare(a.ID, b.ID) })
}
