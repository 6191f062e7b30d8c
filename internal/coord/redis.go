package coord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Coordinator of several nodes sharing one Redis server.
//
// Keys (after the prefix): node:<id> holds a node's registration (JSON,
// expiring after the node TTL), nodes is the set of node ids seen (pruned
// of ids whose registration expired), lease:<room> holds "<node>|<token>"
// (expiring after the lease TTL); epoch marks that the server holds the
// installation's state (set by the first registration, it vanishes when a
// restart loses every key), and recovering, set for a membership round
// when a node that had registered before finds epoch gone, says the other
// nodes may not have re-asserted their leases yet (see Recovering); room
// events are published on the channel events.
type Redis struct {
	c    *redis.Client
	opts Options
	// registered: a registration of this node has succeeded before, so a
	// missing epoch means the server lost its state.
	registered atomic.Bool
}

// recoveryGrace is how long after Redis lost its state the nodes may take
// to re-assert their leases: one membership round and one slow call.
func (o Options) recoveryGrace() time.Duration { return DefaultInterval + o.OpTimeout }

var (
	// renewScript extends the lease when the token matches, sets it again
	// when it vanished, and refuses when another holder has it.
	renewScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
`)
	// epochScript sets epoch when it is missing and then, when the node
	// had registered before (ARGV[1]), marks the state as recovering for
	// ARGV[2] milliseconds.
	epochScript = `
if redis.call('SET', KEYS[1], '1', 'NX') and ARGV[1] == '1' then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
  return 1
end
return 0
`
	// releaseScript deletes the lease only when the token matches.
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)
)

// OpenRedis connects to the Redis server at rawURL
// (redis://[user:password@]host:port[/db][?prefix=…], or rediss:// for
// TLS). It does not wait for the server: calls fail with ErrUnavailable
// until it answers. A "prefix" query parameter overrides opts.Prefix.
func OpenRedis(rawURL string, opts Options) (*Redis, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("coord: redis url: %w", err)
	}
	q := u.Query()
	if p := q.Get("prefix"); p != "" {
		opts.Prefix = p
	}
	q.Del("prefix")
	u.RawQuery = q.Encode()
	ro, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("coord: redis url: %w", err)
	}
	opts = opts.withDefaults()
	ro.DialTimeout = opts.OpTimeout
	ro.ReadTimeout = opts.OpTimeout
	ro.WriteTimeout = opts.OpTimeout
	ro.PoolTimeout = opts.OpTimeout
	ro.ContextTimeoutEnabled = true
	ro.MaxRetries = 1 // one more try on a fresh connection after a Redis restart
	ro.DialerRetries = 1
	ro.MinRetryBackoff = 10 * time.Millisecond
	ro.MaxRetryBackoff = 50 * time.Millisecond
	if ro.ClientName == "" {
		ro.ClientName = "kuayang"
	}
	return &Redis{c: redis.NewClient(ro), opts: opts}, nil
}

// Prefix is the key prefix in use.
func (r *Redis) Prefix() string { return r.opts.Prefix }

func (r *Redis) key(parts ...string) string {
	k := r.opts.Prefix
	for _, p := range parts {
		k += p
	}
	return k
}

// op bounds one call by the operation timeout.
func (r *Redis) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.opts.OpTimeout)
}

// wrap turns a client error into ErrUnavailable (or ErrClosed).
func wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.ErrClosed):
		return ErrClosed
	}
	return fmt.Errorf("%w: redis: %w", ErrUnavailable, err)
}

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := r.op(ctx)
	defer cancel()
	return wrap(r.c.Ping(ctx).Err())
}

// Register implements Coordinator.
func (r *Redis) Register(ctx context.Context, n NodeInfo) error {
	if n.Updated.IsZero() {
		n.Updated = time.Now()
	}
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	ctx, cancel := r.op(ctx)
	defer cancel()
	again := "0"
	if r.registered.Load() {
		again = "1"
	}
	_, err = r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, r.key("node:", n.ID), b, r.opts.NodeTTL)
		p.SAdd(ctx, r.key("nodes"), n.ID)
		p.Eval(ctx, epochScript, []string{r.key("epoch"), r.key("recovering")}, again,
			strconv.FormatInt(r.opts.recoveryGrace().Milliseconds(), 10))
		return nil
	})
	if err == nil {
		r.registered.Store(true)
	}
	return wrap(err)
}

// Recovering reports whether Redis lost its state (a restart without
// persistence) so recently that live nodes may not have re-asserted the
// leases of the rooms they host yet: no node has registered since
// (epoch is missing), or one did less than a membership round ago. A room
// without a lease may then be one that is running elsewhere; placing it
// anew would split it.
func (r *Redis) Recovering(ctx context.Context) (bool, error) {
	ctx, cancel := r.op(ctx)
	defer cancel()
	n, err := r.c.Exists(ctx, r.key("epoch")).Result()
	if err != nil {
		return false, wrap(err)
	}
	if n == 0 {
		return true, nil
	}
	n, err = r.c.Exists(ctx, r.key("recovering")).Result()
	if err != nil {
		return false, wrap(err)
	}
	return n == 1, nil
}

// Deregister implements Coordinator.
func (r *Redis) Deregister(ctx context.Context, id string) error {
	ctx, cancel := r.op(ctx)
	defer cancel()
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, r.key("node:", id))
		p.SRem(ctx, r.key("nodes"), id)
		return nil
	})
	return wrap(err)
}

// Nodes implements Coordinator.
func (r *Redis) Nodes(ctx context.Context) ([]NodeInfo, error) {
	ctx, cancel := r.op(ctx)
	defer cancel()
	ids, err := r.c.SMembers(ctx, r.key("nodes")).Result()
	if err != nil {
		return nil, wrap(err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.key("node:", id)
	}
	vals, err := r.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, wrap(err)
	}
	var out []NodeInfo
	var gone []any
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			gone = append(gone, ids[i])
			continue
		}
		var n NodeInfo
		if err := json.Unmarshal([]byte(s), &n); err != nil {
			continue // not ours; ignore
		}
		out = append(out, n)
	}
	if len(gone) > 0 {
		// A registration that expired: forget the id. A node that comes
		// back adds itself again.
		_ = r.c.SRem(ctx, r.key("nodes"), gone...).Err()
	}
	sortNodes(out)
	return out, nil
}

// Acquire implements Coordinator.
func (r *Redis) Acquire(ctx context.Context, room, node string) (Lease, error) {
	ctx, cancel := r.op(ctx)
	defer cancel()
	l := NewLease(room, node)
	ok, err := r.c.SetNX(ctx, r.key("lease:", room), l.value(), r.opts.LeaseTTL).Result()
	if err != nil {
		return Lease{}, wrap(err)
	}
	if ok {
		return l, nil
	}
	v, err := r.c.Get(ctx, r.key("lease:", room)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		// Released or expired in between: one more try.
		ok, err = r.c.SetNX(ctx, r.key("lease:", room), l.value(), r.opts.LeaseTTL).Result()
		if err != nil {
			return Lease{}, wrap(err)
		}
		if ok {
			return l, nil
		}
		v, _ = r.c.Get(ctx, r.key("lease:", room)).Result()
	case err != nil:
		return Lease{}, wrap(err)
	}
	return Lease{}, &LeasedError{Room: room, Holder: holderOf(v)}
}

// Holder implements Coordinator.
func (r *Redis) Holder(ctx context.Context, room string) (string, error) {
	ctx, cancel := r.op(ctx)
	defer cancel()
	v, err := r.c.Get(ctx, r.key("lease:", room)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", wrap(err)
	}
	return holderOf(v), nil
}

// Renew implements Coordinator.
func (r *Redis) Renew(ctx context.Context, l Lease) error {
	ctx, cancel := r.op(ctx)
	defer cancel()
	res, err := renewScript.Run(ctx, r.c, []string{r.key("lease:", l.Room)}, l.value(),
		strconv.FormatInt(r.opts.LeaseTTL.Milliseconds(), 10)).Int()
	if err != nil {
		return wrap(err)
	}
	if res == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Release implements Coordinator.
func (r *Redis) Release(ctx context.Context, l Lease) error {
	ctx, cancel := r.op(ctx)
	defer cancel()
	res, err := releaseScript.Run(ctx, r.c, []string{r.key("lease:", l.Room)}, l.value()).Int()
	if err != nil {
		return wrap(err)
	}
	if res == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Publish implements Coordinator.
func (r *Redis) Publish(ctx context.Context, e Event) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	ctx, cancel := r.op(ctx)
	defer cancel()
	return wrap(r.c.Publish(ctx, r.key("events"), b).Err())
}

// Subscribe implements Coordinator. It returns once Redis has confirmed
// the subscription; the subscription reconnects by itself after Redis
// comes back (events published meanwhile are lost).
func (r *Redis) Subscribe(ctx context.Context) (Subscription, error) {
	octx, cancel := r.op(ctx)
	defer cancel()
	ps := r.c.Subscribe(octx, r.key("events"))
	if _, err := ps.Receive(octx); err != nil {
		_ = ps.Close()
		return nil, wrap(err)
	}
	s := &redisSub{ps: ps, ch: make(chan Event, subBuffer), done: make(chan struct{})}
	msgs := ps.Channel(redis.WithChannelSize(subBuffer))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(s.ch)
		for {
			select {
			case <-s.done:
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				var e Event
				if json.Unmarshal([]byte(m.Payload), &e) != nil {
					continue
				}
				select {
				case s.ch <- e:
				case <-s.done:
					return
				}
			}
		}
	}()
	return s, nil
}

type redisSub struct {
	ps   *redis.PubSub
	ch   chan Event
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func (s *redisSub) Events() <-chan Event { return s.ch }

func (s *redisSub) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.ps.Close()
		s.wg.Wait()
	})
	return err
}

// Close implements Coordinator.
func (r *Redis) Close() error { return r.c.Close() }

// SetRedisLogger sends the Redis client's own messages (reconnections,
// failed dials) to log at debug level instead of the standard error. The
// client's logger is process-wide.
func SetRedisLogger(log *slog.Logger) {
	redis.SetLogger(redisLogger{log})
}

type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...), "component", "redis")
}
