//go:build !linux

package test

import "syscall"

// childProcAttr: only Linux can tie a child's life to the test process.
func childProcAttr() *syscall.SysProcAttr { return nil }
