package coord

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// MemberConfig configures a Member.
type MemberConfig struct {
	// Self returns the node's registration as it is now (id, URL, UDP
	// address, load). It is called every Interval; the id must not change.
	Self func() NodeInfo
	// Interval between registrations and lease renewals (default 2 s;
	// keep it well under the TTLs).
	Interval time.Duration
	// OnLost is called (on the Member's goroutine) when a lease the node
	// held was found taken by another node: the node no longer hosts the
	// room and should send its clients away.
	OnLost func(room string)
	// Hosted, when set, lists the rooms the node hosts right now (people
	// are connected to them). Each round, a hosted room whose lease the
	// node does not hold is acquired again, or reported to OnLost when
	// another node has it: the leases follow what the nodes really host.
	Hosted func() []string
	Logger *slog.Logger
}

// Member is one node's membership: it registers the node every Interval,
// renews the leases of the rooms the node hosts, and, after the backend
// was unreachable, registers again and re-asserts those leases (so a Redis
// restart that lost every key is repaired from the live nodes within one
// Interval of Redis answering again).
type Member struct {
	c   Coordinator
	cfg MemberConfig
	id  string
	log *slog.Logger

	mu      sync.Mutex
	leases  map[string]Lease
	healthy bool
	ticked  bool // a round has run
	nodes   []NodeInfo
	started bool // Start ran

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// NewMember makes a Member; Start starts its loop.
func NewMember(c Coordinator, cfg MemberConfig) *Member {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Member{c: c, cfg: cfg, id: cfg.Self().ID, log: log, leases: map[string]Lease{},
		stop: make(chan struct{}), done: make(chan struct{})}
}

// ID is the node's id.
func (m *Member) ID() string { return m.id }

// Coordinator is the backend.
func (m *Member) Coordinator() Coordinator { return m.c }

// Start registers the node at once and then every Interval until Close.
func (m *Member) Start() {
	m.mu.Lock()
	m.started = true
	m.mu.Unlock()
	m.Tick(context.Background())
	go m.loop()
}

func (m *Member) loop() {
	defer close(m.done)
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.Tick(context.Background())
		}
	}
}

// Tick registers the node and renews its leases once. The loop calls it;
// tests may too.
func (m *Member) Tick(ctx context.Context) {
	err := m.c.Register(ctx, m.cfg.Self())
	if err == nil {
		err = m.renewAll(ctx)
	}
	if err == nil {
		err = m.assertHosted(ctx)
	}
	if err == nil {
		var nodes []NodeInfo
		if nodes, err = m.c.Nodes(ctx); err == nil {
			m.mu.Lock()
			m.nodes = nodes
			m.mu.Unlock()
		}
	}
	m.mu.Lock()
	was, first := m.healthy, !m.ticked
	m.healthy, m.ticked = err == nil, true
	n := len(m.leases)
	m.mu.Unlock()
	switch {
	case err != nil && (was || first):
		m.log.Warn("coordination unavailable; running rooms continue, retrying", "err", err)
	case err == nil && !was:
		m.log.Info("coordination available: node registered, leases asserted", "node", m.id, "rooms", n)
	}
}

// renewAll renews every lease; it stops at the first unavailability (the
// others would fail alike).
func (m *Member) renewAll(ctx context.Context) error {
	m.mu.Lock()
	ls := make([]Lease, 0, len(m.leases))
	for _, l := range m.leases {
		ls = append(ls, l)
	}
	m.mu.Unlock()
	for _, l := range ls {
		err := m.c.Renew(ctx, l)
		switch {
		case errors.Is(err, ErrLeaseLost):
			m.mu.Lock()
			cur, ok := m.leases[l.Room]
			if ok && cur.Token == l.Token {
				delete(m.leases, l.Room)
			}
			m.mu.Unlock()
			if ok && cur.Token == l.Token {
				m.log.Warn("room lease lost to another node", "room", l.Room)
				if m.cfg.OnLost != nil {
					m.cfg.OnLost(l.Room)
				}
			}
		case err != nil:
			return err
		}
	}
	return nil
}

// assertHosted acquires the leases of hosted rooms the node does not hold.
func (m *Member) assertHosted(ctx context.Context) error {
	if m.cfg.Hosted == nil {
		return nil
	}
	for _, room := range m.cfg.Hosted() {
		if m.Holds(room) {
			continue
		}
		_, err := m.Acquire(ctx, room)
		switch {
		case errors.Is(err, ErrLeased):
			m.log.Warn("hosted room is leased to another node", "room", room, "err", err)
			if m.cfg.OnLost != nil {
				m.cfg.OnLost(room)
			}
		case err != nil:
			return err
		}
	}
	return nil
}

// Nodes is the list of live nodes as of the last round.
func (m *Member) Nodes() []NodeInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.nodes
}

// Healthy reports whether the last round reached the backend.
func (m *Member) Healthy() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.healthy
}

// Acquire leases room to this node, or returns the lease it already holds.
// Another holder gives a *LeasedError.
func (m *Member) Acquire(ctx context.Context, room string) (Lease, error) {
	m.mu.Lock()
	if l, ok := m.leases[room]; ok {
		m.mu.Unlock()
		return l, nil
	}
	m.mu.Unlock()
	l, err := m.c.Acquire(ctx, room, m.id)
	if err != nil {
		// A concurrent Acquire of this node may have won.
		m.mu.Lock()
		held, ok := m.leases[room]
		m.mu.Unlock()
		if ok {
			return held, nil
		}
		return Lease{}, err
	}
	m.mu.Lock()
	m.leases[room] = l
	m.mu.Unlock()
	return l, nil
}

// Holds reports whether this node holds room's lease.
func (m *Member) Holds(room string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.leases[room]
	return ok
}

// Rooms lists the rooms this node holds.
func (m *Member) Rooms() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.leases))
	for r := range m.leases {
		out = append(out, r)
	}
	return out
}

// Release gives up room's lease (the room emptied on this node). A lease
// already lost is no error.
func (m *Member) Release(ctx context.Context, room string) error {
	m.mu.Lock()
	l, ok := m.leases[room]
	delete(m.leases, room)
	m.mu.Unlock()
	if !ok {
		return nil
	}
	err := m.c.Release(ctx, l)
	if errors.Is(err, ErrLeaseLost) {
		return nil
	}
	return err
}

// Close stops the loop, releases every lease and deregisters the node.
// It does not close the Coordinator.
func (m *Member) Close(ctx context.Context) error {
	m.once.Do(func() { close(m.stop) })
	m.mu.Lock()
	started := m.started
	m.mu.Unlock()
	if started {
		<-m.done
	}
	var errs []error
	for _, r := range m.Rooms() {
		errs = append(errs, m.Release(ctx, r))
	}
	errs = append(errs, m.c.Deregister(ctx, m.id))
	return errors.Join(errs...)
}
