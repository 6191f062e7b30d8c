package coord_test

import (
	"testing"

	"github.com/kuayang/kuayang/internal/coord"
	"github.com/kuayang/kuayang/internal/coord/coordtest"
)

func TestMemoryConformance(t *testing.T) {
	coordtest.Run(t, func(t *testing.T, opts coord.Options) func() coord.Coordinator {
		m := coord.NewMemory(opts)
		t.Cleanup(func() { _ = m.Close() })
		return func() coord.Coordinator { return m }
	})
}
