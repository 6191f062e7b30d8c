package test

import (
	"testing"

	"github.com/kuayang/kuayang/internal/blob/miniotest"
)

// TestMain stops the shared MinIO server, if a test started one.
func TestMain(m *testing.M) { miniotest.Main(m) }
