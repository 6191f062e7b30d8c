// Package testredis gives tests a key space of their own on the test Redis
// server (KUAYANG_TEST_REDIS_URL, or redis://127.0.0.1:6379/0): a URL whose
// "prefix" parameter is unique to the test, every key of which is deleted
// when the test ends. Without a server the test is skipped with a loud
// message, except under CI, where it fails: CI never skips.
//
// Proxy puts a TCP relay in front of the server that a test can stop and
// start again, to see what a node does while Redis is unreachable.
package testredis

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kuayang/kuayang/internal/auth"
)

// ServerURL is the test server's URL (without a prefix).
func ServerURL() string {
	if u := os.Getenv("KUAYANG_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// URL returns the test server's URL with a key prefix of this test's own
// (the "prefix" query parameter that coord.OpenRedis reads); the prefix's
// keys are deleted when the test ends. Without a server the test is
// skipped loudly, except under CI, where it fails.
func URL(t testing.TB) string {
	t.Helper()
	base := ServerURL()
	c := client(t, base)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		if os.Getenv("CI") != "" {
			t.Fatalf("no Redis at KUAYANG_TEST_REDIS_URL (%s), and CI never skips: %v", base, err)
		}
		t.Skipf("SKIPPING Redis test: no server at %s (%v); set KUAYANG_TEST_REDIS_URL", base, err)
	}
	prefix := "kuayang-test:" + strings.ToLower(auth.InviteToken()[:12]) + ":"
	t.Cleanup(func() {
		defer c.Close()
		if err := Flush(prefix, c); err != nil {
			t.Errorf("testredis: deleting %s*: %v", prefix, err)
		}
	})
	return WithPrefix(base, prefix)
}

// WithPrefix sets the "prefix" query parameter of a Redis URL.
func WithPrefix(rawURL, prefix string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	q := u.Query()
	q.Set("prefix", prefix)
	u.RawQuery = q.Encode()
	return u.String()
}

// WithHost replaces the host:port of a Redis URL (to go through a Proxy).
func WithHost(rawURL, hostport string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	u.Host = hostport
	return u.String()
}

// Prefix is the "prefix" query parameter of a Redis URL.
func Prefix(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Query().Get("prefix")
}

// client connects to the server of rawURL (ignoring its prefix).
func client(t testing.TB, rawURL string) *redis.Client {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("prefix")
	u.RawQuery = q.Encode()
	o, err := redis.ParseURL(u.String())
	if err != nil {
		t.Fatalf("testredis: %v", err)
	}
	o.DialTimeout = 2 * time.Second
	return redis.NewClient(o)
}

// Client is a plain client of the test server behind rawURL, closed when
// the test ends.
func Client(t testing.TB, rawURL string) *redis.Client {
	t.Helper()
	c := client(t, rawURL)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Flush deletes every key that starts with prefix, as a Redis restart
// without persistence would lose them.
func Flush(prefix string, c *redis.Client) error {
	if prefix == "" {
		return errors.New("testredis: refusing to flush an empty prefix")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return err
	}
	for len(keys) > 0 {
		k := min(len(keys), 500)
		if err := c.Del(ctx, keys[:k]...).Err(); err != nil {
			return err
		}
		keys = keys[k:]
	}
	return nil
}

// Proxy relays TCP connections from a loopback port to the Redis server.
// Stop closes the port and every relayed connection (Redis is
// unreachable); Start opens the same port again.
type Proxy struct {
	t      testing.TB
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewProxy relays to the server of rawURL and returns the proxy, started;
// it is stopped when the test ends. ProxyURL(rawURL) goes through it.
func NewProxy(t testing.TB, rawURL string) *Proxy {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, target: u.Host, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.Stop)
	return p
}

// Addr is the proxy's address.
func (p *Proxy) Addr() string { return p.addr }

// URL is rawURL going through the proxy.
func (p *Proxy) URL(rawURL string) string { return WithHost(rawURL, p.addr) }

// Start listens again on the proxy's address.
func (p *Proxy) Start() {
	p.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("testredis: proxy: %v", err)
	}
	p.serve(ln)
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			if p.ln != ln {
				p.mu.Unlock()
				_ = c.Close()
				_ = up.Close()
				return
			}
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pipe(c, up)
			go p.pipe(up, c)
		}
	}()
}

func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// Stop closes the listener and every relayed connection.
func (p *Proxy) Stop() {
	p.mu.Lock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
