//go:build !unix

package node

import (
	"runtime"
	"time"
)

// processCPU is unknown here: placement goes by participants and tracks.
func processCPU() time.Duration { return -1 }

func numCPU() int { return runtime.NumCPU() }
