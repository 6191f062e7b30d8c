//go:build !linux

package miniotest

import "syscall"

// sysProcAttr: without Pdeathsig, Main must stop the server.
func sysProcAttr() *syscall.SysProcAttr { return nil }
