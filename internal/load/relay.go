package load

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// The floor relay is the least a server could do with the same packets: a
// bare UDP relay, no SRTP, no RTCP, no congestion control, that sends each
// packet it reads to the other participants of the sender's room, with
// batched system calls (recvmmsg and sendmmsg). Participants register with
// a hello packet, which the relay echoes:
//
//	"KYFH" room (uint32, big endian)
//
// Every other packet is relayed as is; a packet from an address that did
// not register is dropped.
const (
	helloMagic = "KYFH"
	helloLen   = len(helloMagic) + 4
	relayBatch = 64
)

// RelayMain runs the floor relay (`kuayang load --floor-relay`): it listens
// on listen (which must be a loopback address), writes "listening ADDR" to
// stdout, and relays until stdin reaches EOF or ctx ends.
func RelayMain(ctx context.Context, listen string, stdin io.Reader, stdout io.Writer) error {
	ap, err := netip.ParseAddrPort(listen)
	if err != nil || !ap.Addr().IsLoopback() {
		return fmt.Errorf("%w: --listen %q: want a loopback address and port, e.g. 127.0.0.1:0", ErrUsage, listen)
	}
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadBuffer(8 << 20)
	_ = conn.SetWriteBuffer(8 << 20)
	if _, err := fmt.Fprintf(stdout, "listening %s\n", conn.LocalAddr()); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// The parent holds our stdin: its end (or its death) ends us.
		_, _ = io.Copy(io.Discard, bufio.NewReader(stdin))
		cancel()
	}()
	go func() {
		<-ctx.Done()
		_ = conn.Close()
	}()
	err = relay(conn)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// relay forwards packets on conn until it is closed.
func relay(conn *net.UDPConn) error {
	pc := ipv4.NewPacketConn(conn)
	rooms := map[uint32][]*net.UDPAddr{}
	member := map[netip.AddrPort]uint32{}
	in := make([]ipv4.Message, relayBatch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, 1500)}
	}
	var out []ipv4.Message
	for {
		n, err := pc.ReadBatch(in, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		out = out[:0]
		for _, m := range in[:n] {
			from, ok := m.Addr.(*net.UDPAddr)
			if !ok {
				continue
			}
			src := from.AddrPort()
			p := m.Buffers[0][:m.N]
			if len(p) == helloLen && string(p[:len(helloMagic)]) == helloMagic {
				r := binary.BigEndian.Uint32(p[len(helloMagic):])
				if _, known := member[src]; !known {
					member[src] = r
					rooms[r] = append(rooms[r], net.UDPAddrFromAddrPort(src))
				}
				// Echo to acknowledge; the buffer is copied below.
				out = append(out, ipv4.Message{Buffers: [][]byte{p}, Addr: from})
				continue
			}
			r, ok := member[src]
			if !ok {
				continue
			}
			for _, to := range rooms[r] {
				if to.Port == from.Port && to.IP.Equal(from.IP) {
					continue
				}
				out = append(out, ipv4.Message{Buffers: [][]byte{p}, Addr: to})
			}
		}
		// out's buffers point into in's, which the next ReadBatch reuses:
		// send them all first.
		for sent := 0; sent < len(out); {
			k, err := pc.WriteBatch(out[sent:], 0)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return nil
				}
				// A vanished receiver (ECONNREFUSED from an earlier send):
				// drop the packet, as a relay would.
				k = max(k, 1)
			}
			sent += k
		}
	}
}
