//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || loong64)

package sfu

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

func listenBatch(t testing.TB, network, addr string) *batchConn {
	t.Helper()
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Skipf("cannot listen on %s %s: %v", network, addr, err)
	}
	b, err := newBatchConn(c, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func listenPlain(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadBuffer(8 << 20); err != nil {
		t.Log(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// datagram is writer w's n-th packet: a header naming both, then a body
// whose length and bytes depend on them.
func datagram(w, n int) []byte {
	size := 8 + (w*131+n*17)%1100
	b := make([]byte, size)
	binary.BigEndian.PutUint32(b, uint32(w))
	binary.BigEndian.PutUint32(b[4:], uint32(n))
	for i := 8; i < size; i++ {
		b[i] = byte(w + n + i)
	}
	return b
}

// TestBatchConnWritesFromManyGoroutines: every datagram arrives whole, to
// the right address, and each writer's datagrams keep their order.
func TestBatchConnWritesFromManyGoroutines(t *testing.T) {
	for _, bind := range []struct{ network, addr string }{
		{"udp4", "127.0.0.1:0"},
		{"udp", "[::]:0"}, // dual-stack: IPv4 peers go as mapped addresses
	} {
		t.Run(bind.network, func(t *testing.T) {
			sender := listenBatch(t, bind.network, bind.addr)
			recv := listenPlain(t)
			to := recv.LocalAddr().(*net.UDPAddr).AddrPort()
			const writers, each = 16, 200
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for n := range each {
						p := datagram(w, n)
						if k, err := sender.WriteToAddrPort(p, to); err != nil || k != len(p) {
							t.Errorf("write %d/%d: %d %v", w, n, k, err)
							return
						}
						// The caller may reuse its buffer at once.
						clear(p)
					}
				})
			}
			next := make([]int, writers)
			buf := make([]byte, 2048)
			recv.SetReadDeadline(time.Now().Add(10 * time.Second))
			for got := 0; got < writers*each; got++ {
				n, _, err := recv.ReadFromUDPAddrPort(buf)
				if err != nil {
					t.Fatalf("after %d datagrams: %v", got, err)
				}
				w, k := int(binary.BigEndian.Uint32(buf)), int(binary.BigEndian.Uint32(buf[4:]))
				if w >= writers || !bytes.Equal(buf[:n], datagram(w, k)) {
					t.Fatalf("datagram %d: corrupt (writer %d, number %d, %d bytes)", got, w, k, n)
				}
				if k != next[w] {
					t.Fatalf("writer %d: got number %d, want %d", w, k, next[w])
				}
				next[w]++
			}
			wg.Wait()
		})
	}
}

// TestBatchConnReadsBursts: datagrams that arrive together are handed out
// one by one, in order, with their senders' addresses, into buffers of any
// size.
func TestBatchConnReadsBursts(t *testing.T) {
	for _, bind := range []struct{ network, addr string }{
		{"udp4", "127.0.0.1:0"},
		{"udp", "[::]:0"},
	} {
		t.Run(bind.network, func(t *testing.T) {
			r := listenBatch(t, bind.network, bind.addr)
			port := r.LocalAddr().(*net.UDPAddr).Port
			to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
			a, b := listenPlain(t), listenPlain(t)
			// Rounds of bursts small enough for the default receive
			// buffer; each round arrives before the first read.
			want := func(n int) netip.AddrPort {
				if n%3 == 0 {
					return b.LocalAddr().(*net.UDPAddr).AddrPort()
				}
				return a.LocalAddr().(*net.UDPAddr).AddrPort()
			}
			r.SetReadDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 2048)
			const round, rounds = 40, 5
			for n0 := 0; n0 < round*rounds; n0 += round {
				for n := n0; n < n0+round; n++ {
					from := a
					if n%3 == 0 {
						from = b
					}
					if _, err := from.WriteToUDPAddrPort(datagram(n%3, n), to); err != nil {
						t.Fatal(err)
					}
				}
				for n := n0; n < n0+round; n++ {
					k, src, err := r.ReadFromAddrPort(buf)
					if err != nil {
						t.Fatalf("datagram %d: %v", n, err)
					}
					if !bytes.Equal(buf[:k], datagram(n%3, n)) {
						t.Fatalf("datagram %d: wrong content (%d bytes)", n, k)
					}
					if w := want(n); src.Addr().Unmap() != w.Addr() || src.Port() != w.Port() {
						t.Fatalf("datagram %d from %v, want %v", n, src, w)
					}
				}
				if n0 == 0 && r.rn < 2 {
					t.Errorf("the first burst of %d datagrams came %d at a time", round, r.rn)
				}
			}
			// The standard library form answers the same way.
			if _, err := a.WriteToUDPAddrPort([]byte("x"), to); err != nil {
				t.Fatal(err)
			}
			k, addr, err := r.ReadFrom(buf)
			if err != nil || k != 1 || addr.(*net.UDPAddr).Port != a.LocalAddr().(*net.UDPAddr).Port {
				t.Fatalf("ReadFrom: %d %v %v", k, addr, err)
			}
		})
	}
}

// TestBatchConnDeadlineAndClose: a read deadline surfaces as a timeout (the
// ICE mux keeps reading after one) and a closed socket as net.ErrClosed.
func TestBatchConnDeadlineAndClose(t *testing.T) {
	r := listenBatch(t, "udp4", "127.0.0.1:0")
	r.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, _, err := r.ReadFromAddrPort(make([]byte, 100))
	if !os.IsTimeout(err) {
		t.Fatalf("read past deadline: %v, want a timeout", err)
	}
	to := listenPlain(t).LocalAddr().(*net.UDPAddr).AddrPort()
	r.Close()
	if _, err := r.WriteToAddrPort([]byte("x"), to); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write on closed socket: %v", err)
	}
	if _, _, err := r.ReadFromAddrPort(make([]byte, 100)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read on closed socket: %v", err)
	}
}

// TestBatchConnAllocatesNothing: writing and reading a datagram allocate
// nothing (the forwarding path's rule).
func TestBatchConnAllocatesNothing(t *testing.T) {
	c := listenBatch(t, "udp4", "127.0.0.1:0")
	self := c.LocalAddr().(*net.UDPAddr).AddrPort()
	p := datagram(1, 1)
	buf := make([]byte, 2048)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := c.WriteToAddrPort(p, self); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.ReadFromAddrPort(buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per write and read, want 0", allocs)
	}
}

// BenchmarkUDPWrite compares parallel writers on the batched socket with
// the same writers on a plain one (one sendto each).
func BenchmarkUDPWrite(b *testing.B) {
	p := make([]byte, 1100)
	b.Run("batched", func(b *testing.B) {
		c := listenBatch(b, "udp4", "127.0.0.1:0")
		to := listenPlain(b).LocalAddr().(*net.UDPAddr).AddrPort()
		b.SetBytes(int64(len(p)))
		b.ReportAllocs()
		defer reportCPU(b)()
		b.SetParallelism(benchPar)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.WriteToAddrPort(p, to)
			}
		})
		b.ReportMetric(float64(c.wsent.Load())/float64(c.wcalls.Load()), "datagrams/call")
	})
	b.Run("plain", func(b *testing.B) {
		c := listenPlain(b)
		to := listenPlain(b).LocalAddr().(*net.UDPAddr).AddrPort()
		b.SetBytes(int64(len(p)))
		b.ReportAllocs()
		defer reportCPU(b)()
		b.SetParallelism(benchPar)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.WriteToUDPAddrPort(p, to)
			}
		})
	})
}

// reportCPU reports the process's CPU time (user and system) per
// operation: what a busy node pays, which wall time per op hides when
// writers wait for each other.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() { b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op") }
}

var benchPar = 1
