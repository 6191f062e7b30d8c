package test

import (
	"testing"

	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/testpg"
)

func TestCallOnPostgres(t *testing.T) {
	pg := testpg.URL(t)
	n := startNode(t, func(c *config.Config) { c.PostgresURL = pg })
	a, b := connect(t, n, 1), connect(t, n, 2)
	flowing(t, a, 10, b)
	flowing(t, b, 10, a)
	p, err := n.Store().Participant(t.Context(), a.self)
	if err != nil || p.JoinedAt == nil || p.ConsentAt == nil || p.LastIP != "127.0.0.1" {
		t.Fatalf("join not recorded in PostgreSQL: %+v %v", p, err)
	}
	s, err := n.Store().Session(t.Context(), n.demo.SessionID)
	if err != nil || s.State != "live" || s.StartedAt == nil {
		t.Fatalf("session not live: %+v %v", s, err)
	}
}
