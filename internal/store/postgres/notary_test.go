package postgres

import (
	"testing"

	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/store/storetest"
)

func TestJournalImmutable(t *testing.T) {
	storetest.JournalImmutable(t,
		func(t *testing.T) store.Store { return openTemp(t) },
		func(t *testing.T, s store.Store, stmt string) error {
			_, err := s.(*DB).pool.Exec(t.Context(), stmt)
			return err
		})
}
