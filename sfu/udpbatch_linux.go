//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || loong64)

package sfu

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The node's one UDP socket carries every participant's media, so its
// system calls dominate the cost of forwarding once the packet work itself
// allocates nothing: one sendto and one recvfrom per packet. batchConn
// cuts that to one sendmmsg per batch of queued writes and one recvmmsg per
// burst of arrived datagrams.
//
// Writes use flat combining: a writer copies its datagram into the current
// batch; if nobody is sending, it becomes the sender and sends batches until
// the queue is empty, while others append behind it. Under light load every
// write is sent at once by its own writer (no hand-off, no added delay);
// under load, writers that arrive during a send join the next batch. The
// batch size follows the load by itself, so nothing waits for a timer.
//
// Reads are done by one goroutine (the ICE mux's reader): a recvmmsg fills
// up to batchLen slots, and the following reads are answered from them.
const (
	batchLen  = 64   // datagrams per system call
	writeSlot = 2048 // larger datagrams bypass the batch (none in practice)
	readSlot  = 4096 // larger datagrams are dropped as truncated
)

// mmsghdr is struct mmsghdr of 64-bit Linux.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// batch is one vector of datagrams for sendmmsg or recvmmsg. Its headers
// point into its own arrays, set up once; a batch never moves.
type batch struct {
	n     int
	hdrs  [batchLen]mmsghdr
	iovs  [batchLen]unix.Iovec
	names [batchLen]unix.RawSockaddrInet6
	bufs  [][]byte
}

func newBatch(slot int) *batch {
	b := &batch{bufs: make([][]byte, batchLen)}
	mem := make([]byte, batchLen*slot)
	for i := range batchLen {
		b.bufs[i] = mem[i*slot : (i+1)*slot : (i+1)*slot]
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(slot)
		h := &b.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Namelen = unix.SizeofSockaddrInet6
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
	}
	return b
}

// batchConn is the node's UDP socket with batched reads and writes. It
// implements net.PacketConn and the netip.AddrPort read and write methods
// the ICE mux prefers.
type batchConn struct {
	*net.UDPConn
	raw syscall.RawConn
	v6  bool // an AF_INET6 socket: IPv4 peers are written as mapped addresses
	log *slog.Logger

	wmu      sync.Mutex
	wcond    sync.Cond // signalled when a full queue has room again
	queue    *batch    // where writers append
	spare    *batch    // the batch being sent, then the next queue
	sending  bool
	werrs    atomic.Uint64
	wcalls   atomic.Uint64 // sendmmsg calls
	wsent    atomic.Uint64 // datagrams they sent
	lastWLog atomic.Int64

	// The sender's state, for sendmmsgFD: only the one sending writer
	// touches it.
	sendmmsg func(fd uintptr) bool
	out      *batch
	outSent  int
	outN     int
	outErr   syscall.Errno

	// The read side: only the mux's reader goroutine touches it.
	recvmmsg func(fd uintptr) bool
	rq       *batch
	rn       int // datagrams in rq
	ri       int // next datagram to hand out
	inN      int
	inErr    syscall.Errno
}

// newBatchConn wraps c. It fails only if the socket's family cannot be
// read, in which case the caller should use c as it is.
func newBatchConn(c *net.UDPConn, log *slog.Logger) (*batchConn, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var family int
	var serr error
	if err := raw.Control(func(fd uintptr) {
		family, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
	}); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, fmt.Errorf("sfu: socket family: %w", serr)
	}
	b := &batchConn{UDPConn: c, raw: raw, v6: family == unix.AF_INET6, log: log,
		queue: newBatch(writeSlot), spare: newBatch(writeSlot), rq: newBatch(readSlot)}
	b.wcond.L = &b.wmu
	b.sendmmsg, b.recvmmsg = b.sendmmsgFD, b.recvmmsgFD
	return b, nil
}

// WriteTo implements net.PacketConn.
func (c *batchConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: syscall.EAFNOSUPPORT}
	}
	return c.WriteToAddrPort(p, ua.AddrPort())
}

// WriteToAddrPort queues p for addr and, if no other writer is sending,
// sends the queue. p may be reused once it returns.
func (c *batchConn) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	if len(p) > writeSlot || addr.Addr().Zone() != "" || (!c.v6 && !addr.Addr().Unmap().Is4()) {
		// Rare cases the batch does not encode: let the kernel and
		// the standard library answer them.
		return c.UDPConn.WriteToUDPAddrPort(p, addr)
	}
	c.wmu.Lock()
	for c.queue.n == batchLen {
		c.wcond.Wait()
	}
	c.put(c.queue, p, addr)
	if c.sending {
		c.wmu.Unlock()
		return len(p), nil
	}
	c.sending = true
	var err error
	for c.queue.n > 0 {
		out := c.queue
		c.queue, c.spare = c.spare, out
		c.wcond.Broadcast()
		c.wmu.Unlock()
		if e := c.send(out); e != nil {
			err = e
		}
		out.n = 0
		c.wmu.Lock()
	}
	c.sending = false
	c.wmu.Unlock()
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// put copies p and its destination into the next slot of b.
func (c *batchConn) put(b *batch, p []byte, addr netip.AddrPort) {
	i := b.n
	b.n++
	copy(b.bufs[i], p)
	b.iovs[i].SetLen(len(p))
	sa := &b.names[i]
	h := &b.hdrs[i].hdr
	if c.v6 {
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: addr.Addr().As16()}
		h.Namelen = unix.SizeofSockaddrInet6
	} else {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: addr.Addr().Unmap().As4()}
		h.Namelen = unix.SizeofSockaddrInet4
	}
	// The port is in network byte order in both families, at the same
	// offset.
	port := (*[2]byte)(unsafe.Pointer(&sa.Port))
	port[0], port[1] = byte(addr.Port()>>8), byte(addr.Port())
}

// send writes every datagram of b. A datagram the kernel refuses (an
// unreachable peer, a firewall) is skipped and counted, as a lone sendto
// would have failed; the others still go. Only a closed socket or an
// expired write deadline ends the batch early, and is returned.
func (c *batchConn) send(b *batch) error {
	c.out = b
	for c.outSent = 0; c.outSent < b.n; {
		if err := c.raw.Write(c.sendmmsg); err != nil {
			return &net.OpError{Op: "write", Net: "udp", Source: c.LocalAddr(), Err: err}
		}
		if c.outErr != 0 {
			c.writeFailed(b, c.outSent, c.outErr)
			c.outSent++
			continue
		}
		c.outSent += c.outN
		c.wcalls.Add(1)
		c.wsent.Add(uint64(c.outN))
	}
	return nil
}

// sendmmsgFD is the system call of send, for RawConn.Write: it reports
// false to wait until the socket can take more. It is bound once, as
// c.sendmmsg, so that calling it allocates nothing.
func (c *batchConn) sendmmsgFD(fd uintptr) bool {
	b := c.out
	for {
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[c.outSent])),
			uintptr(b.n-c.outSent), 0, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		c.outN, c.outErr = int(r), e
		return true
	}
}

// writeFailed counts a refused datagram and logs at most one every ten
// seconds, so that a peer that went away does not flood the log.
func (c *batchConn) writeFailed(b *batch, i int, errno syscall.Errno) {
	c.werrs.Add(1)
	now := time.Now().UnixNano()
	last := c.lastWLog.Load()
	if now-last < int64(10*time.Second) || !c.lastWLog.CompareAndSwap(last, now) {
		return
	}
	c.log.Warn("udp send failed", "to", sockaddrPort(&b.names[i]), "err", errno, "failures", c.werrs.Load())
}

// ReadFrom implements net.PacketConn.
func (c *batchConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, ap, err := c.ReadFromAddrPort(p)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(ap), nil
}

// ReadFromAddrPort hands out the next datagram of the last recvmmsg, or
// waits for the next burst. Only one goroutine may read.
func (c *batchConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	for c.ri >= c.rn {
		if err := c.receive(); err != nil {
			return 0, netip.AddrPort{}, err
		}
	}
	i := c.ri
	c.ri++
	h := &c.rq.hdrs[i]
	n := copy(p, c.rq.bufs[i][:h.n])
	return n, sockaddrPort(&c.rq.names[i]), nil
}

// receive fills the read batch with the datagrams that have arrived,
// waiting for at least one. Truncated datagrams are dropped.
func (c *batchConn) receive() error {
	b := c.rq
	for i := range batchLen {
		b.iovs[i].SetLen(readSlot)
		b.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		b.hdrs[i].hdr.Flags = 0
	}
	if err := c.raw.Read(c.recvmmsg); err != nil {
		return &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(), Err: err}
	}
	if c.inErr != 0 {
		return &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(), Err: os.NewSyscallError("recvmmsg", c.inErr)}
	}
	n := c.inN
	// Keep the good datagrams at the front, in arrival order.
	c.ri, c.rn = 0, 0
	for i := range n {
		if b.hdrs[i].hdr.Flags&unix.MSG_TRUNC != 0 {
			continue
		}
		if i != c.rn {
			c.swapSlots(i, c.rn)
		}
		c.rn++
	}
	return nil
}

// recvmmsgFD is the system call of receive, for RawConn.Read, bound once
// as c.recvmmsg.
func (c *batchConn) recvmmsgFD(fd uintptr) bool {
	for {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&c.rq.hdrs[0])), batchLen, 0, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		c.inN, c.inErr = int(r), e
		return true
	}
}

// swapSlots exchanges two slots of the read batch, buffers and all.
func (c *batchConn) swapSlots(i, j int) {
	b := c.rq
	b.bufs[i], b.bufs[j] = b.bufs[j], b.bufs[i]
	b.iovs[i].Base, b.iovs[j].Base = &b.bufs[i][0], &b.bufs[j][0]
	b.names[i], b.names[j] = b.names[j], b.names[i]
	b.hdrs[i].n, b.hdrs[j].n = b.hdrs[j].n, b.hdrs[i].n
}

// sockaddrPort decodes a sockaddr_in or sockaddr_in6 the kernel wrote, as
// the standard library would: an AF_INET6 socket reports IPv4 peers as
// IPv4-mapped addresses.
func sockaddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	pb := (*[2]byte)(unsafe.Pointer(&sa.Port))
	port := uint16(pb[0])<<8 | uint16(pb[1])
	if sa.Family == unix.AF_INET {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	}
	return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), port)
}

// WriteFailures is the number of datagrams the kernel refused.
func (c *batchConn) WriteFailures() uint64 { return c.werrs.Load() }

// batchSocket wraps the node's UDP socket for batched system calls.
func batchSocket(c *net.UDPConn, log *slog.Logger) net.PacketConn {
	b, err := newBatchConn(c, log)
	if err != nil {
		log.Warn("batched UDP unavailable; using one system call per packet", "err", err)
		return c
	}
	return b
}

var _ interface {
	net.PacketConn
	ReadFromAddrPort([]byte) (int, netip.AddrPort, error)
	WriteToAddrPort([]byte, netip.AddrPort) (int, error)
} = (*batchConn)(nil)
