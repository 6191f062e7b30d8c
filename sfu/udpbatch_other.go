//go:build !(linux && (amd64 || arm64 || riscv64 || ppc64le || loong64))

package sfu

import (
	"log/slog"
	"net"
)

// batchSocket returns c: batched system calls are implemented for 64-bit
// Linux only.
func batchSocket(c *net.UDPConn, _ *slog.Logger) net.PacketConn { return c }
