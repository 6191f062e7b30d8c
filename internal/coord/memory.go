package coord

import (
	"context"
	"sync"
	"time"
)

// Memory is the in-process Coordinator of a single node. Several users in
// one process (tests) can share it as if it were one Redis.
type Memory struct {
	opts Options

	mu     sync.Mutex
	closed bool
	nodes  map[string]memNode
	leases map[string]memLease
	subs   map[*memSub]struct{}
}

type memNode struct {
	info    NodeInfo
	expires time.Time
}

type memLease struct {
	value   string
	expires time.Time
}

// NewMemory makes an in-process Coordinator.
func NewMemory(opts Options) *Memory {
	return &Memory{opts: opts.withDefaults(), nodes: map[string]memNode{}, leases: map[string]memLease{},
		subs: map[*memSub]struct{}{}}
}

func (m *Memory) lock() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// Register implements Coordinator.
func (m *Memory) Register(ctx context.Context, n NodeInfo) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if n.Updated.IsZero() {
		n.Updated = time.Now()
	}
	m.nodes[n.ID] = memNode{info: n, expires: time.Now().Add(m.opts.NodeTTL)}
	return nil
}

// Deregister implements Coordinator.
func (m *Memory) Deregister(ctx context.Context, id string) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	delete(m.nodes, id)
	return nil
}

// Nodes implements Coordinator.
func (m *Memory) Nodes(ctx context.Context) ([]NodeInfo, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	now := time.Now()
	var out []NodeInfo
	for id, n := range m.nodes {
		if !now.Before(n.expires) {
			delete(m.nodes, id)
			continue
		}
		out = append(out, n.info)
	}
	sortNodes(out)
	return out, nil
}

// current is room's live lease value, or "" (m.mu held).
func (m *Memory) current(room string) string {
	l, ok := m.leases[room]
	if !ok {
		return ""
	}
	if !time.Now().Before(l.expires) {
		delete(m.leases, room)
		return ""
	}
	return l.value
}

// Acquire implements Coordinator.
func (m *Memory) Acquire(ctx context.Context, room, node string) (Lease, error) {
	if err := m.lock(); err != nil {
		return Lease{}, err
	}
	defer m.mu.Unlock()
	if v := m.current(room); v != "" {
		return Lease{}, &LeasedError{Room: room, Holder: holderOf(v)}
	}
	l := NewLease(room, node)
	m.leases[room] = memLease{value: l.value(), expires: time.Now().Add(m.opts.LeaseTTL)}
	return l, nil
}

// Holder implements Coordinator.
func (m *Memory) Holder(ctx context.Context, room string) (string, error) {
	if err := m.lock(); err != nil {
		return "", err
	}
	defer m.mu.Unlock()
	return holderOf(m.current(room)), nil
}

// Renew implements Coordinator.
func (m *Memory) Renew(ctx context.Context, l Lease) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if v := m.current(l.Room); v != "" && v != l.value() {
		return ErrLeaseLost
	}
	m.leases[l.Room] = memLease{value: l.value(), expires: time.Now().Add(m.opts.LeaseTTL)}
	return nil
}

// Release implements Coordinator.
func (m *Memory) Release(ctx context.Context, l Lease) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if m.current(l.Room) != l.value() {
		return ErrLeaseLost
	}
	delete(m.leases, l.Room)
	return nil
}

// Publish implements Coordinator. A subscriber whose buffer is full misses
// the event, as a slow Redis subscriber would.
func (m *Memory) Publish(ctx context.Context, e Event) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if e.At.IsZero() {
		e.At = time.Now()
	}
	for s := range m.subs {
		select {
		case s.ch <- e:
		default:
		}
	}
	return nil
}

// Subscribe implements Coordinator.
func (m *Memory) Subscribe(ctx context.Context) (Subscription, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	s := &memSub{m: m, ch: make(chan Event, subBuffer)}
	m.subs[s] = struct{}{}
	return s, nil
}

// subBuffer is how many events a subscriber may have waiting.
const subBuffer = 256

// Close implements Coordinator: subscriptions end, calls fail ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	for s := range m.subs {
		close(s.ch)
		delete(m.subs, s)
	}
	return nil
}

type memSub struct {
	m  *Memory
	ch chan Event
}

func (s *memSub) Events() <-chan Event { return s.ch }

func (s *memSub) Close() error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if _, ok := s.m.subs[s]; ok {
		delete(s.m.subs, s)
		close(s.ch)
	}
	return nil
}
