package test

import "syscall"

// childProcAttr makes a child process (a node, a Redis server) die with
// the test process, so that a test binary killed by its timeout leaves no
// server holding a port.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
