package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/kuayang/kuayang/internal/coord"
)

// Coord is a coord.Coordinator that times every call to the coordination
// backend (Redis when the node is one of several): the latency per method
// and the failures per method. A lease held elsewhere or lost is an
// answer, not a failure; ErrUnavailable (Redis not answering) is one.
type Coord struct {
	coord.Coordinator
	latency *HistogramVec
	errors  *CounterVec
}

// NewCoord wraps c.
func NewCoord(c coord.Coordinator) *Coord {
	return &Coord{Coordinator: c, latency: NewHistogramVec("op", LatencyBuckets), errors: NewCounterVec("op")}
}

// Write writes the coordinator's families.
func (m *Coord) Write(w *Writer) {
	m.latency.Write(w, "kuayang_coord_duration_seconds", "Time of coordination calls (Redis with several nodes, else in process), by method.")
	m.errors.Write(w, "kuayang_coord_errors_total", "Coordination calls that failed, by method (a lease held by another node is an answer, not a failure).")
}

func (m *Coord) done(op string, start time.Time, err *error) {
	m.latency.With(op).Observe(time.Since(start).Seconds())
	if e := *err; e != nil && !errors.Is(e, coord.ErrLeased) && !errors.Is(e, coord.ErrLeaseLost) && !errors.Is(e, context.Canceled) {
		m.errors.Add(op, 1)
	}
}

func (m *Coord) Register(ctx context.Context, n coord.NodeInfo) (err error) {
	defer m.done("Register", time.Now(), &err)
	return m.Coordinator.Register(ctx, n)
}

func (m *Coord) Deregister(ctx context.Context, id string) (err error) {
	defer m.done("Deregister", time.Now(), &err)
	return m.Coordinator.Deregister(ctx, id)
}

func (m *Coord) Nodes(ctx context.Context) (r0 []coord.NodeInfo, err error) {
	defer m.done("Nodes", time.Now(), &err)
	return m.Coordinator.Nodes(ctx)
}

func (m *Coord) Acquire(ctx context.Context, room, node string) (r0 coord.Lease, err error) {
	defer m.done("Acquire", time.Now(), &err)
	return m.Coordinator.Acquire(ctx, room, node)
}

func (m *Coord) Holder(ctx context.Context, room string) (r0 string, err error) {
	defer m.done("Holder", time.Now(), &err)
	return m.Coordinator.Holder(ctx, room)
}

func (m *Coord) Renew(ctx context.Context, l coord.Lease) (err error) {
	defer m.done("Renew", time.Now(), &err)
	return m.Coordinator.Renew(ctx, l)
}

func (m *Coord) Release(ctx context.Context, l coord.Lease) (err error) {
	defer m.done("Release", time.Now(), &err)
	return m.Coordinator.Release(ctx, l)
}

func (m *Coord) Publish(ctx context.Context, e coord.Event) (err error) {
	defer m.done("Publish", time.Now(), &err)
	return m.Coordinator.Publish(ctx, e)
}

// recovering is the optional method of the Redis coordinator that says
// whether Redis lost its state a moment ago.
type recovering interface {
	Recovering(ctx context.Context) (bool, error)
}

// Recovering passes the Redis coordinator's Recovering on (false for one
// that has none).
func (m *Coord) Recovering(ctx context.Context) (r0 bool, err error) {
	r, ok := m.Coordinator.(recovering)
	if !ok {
		return false, nil
	}
	defer m.done("Recovering", time.Now(), &err)
	return r.Recovering(ctx)
}
