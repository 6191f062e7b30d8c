package auth

import (
	"sync"
	"time"
)

// Limiter counts failed logins per key (an IP address, an email) in a
// sliding window and refuses further attempts once a key has failed Max
// times, until the window has passed since the oldest failure.
type Limiter struct {
	Max    int
	Window time.Duration
	now    func() time.Time

	mu   sync.Mutex             // guards fail
	fail map[string][]time.Time // key -> failure times, oldest first
}

// NewLimiter returns a Limiter allowing max failures per window per key.
func NewLimiter(max int, window time.Duration) *Limiter {
	return &Limiter{Max: max, Window: window, now: time.Now, fail: make(map[string][]time.Time)}
}

// Allow reports whether every key may try now, and if not, how long until
// it may.
func (l *Limiter) Allow(keys ...string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range keys {
		ts := l.prune(k, now)
		if len(ts) >= l.Max {
			if w := ts[0].Add(l.Window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait == 0, wait
}

// Fail records a failure for every key.
func (l *Limiter) Fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		l.fail[k] = append(l.prune(k, now), now)
	}
	if len(l.fail) > 100000 { // bound memory under a spray of keys
		for k := range l.fail {
			l.prune(k, now)
		}
	}
}

// Reset forgets a key's failures (after a successful login).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fail, key)
}

// prune drops failures older than the window; called with mu held.
func (l *Limiter) prune(k string, now time.Time) []time.Time {
	ts := l.fail[k]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.Window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fail, k)
		return nil
	}
	l.fail[k] = ts
	return ts
}
