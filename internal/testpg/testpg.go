// Package testpg gives tests a fresh PostgreSQL database on the test server
// (KUAYANG_TEST_POSTGRES_URL, or the local default), dropped when the test
// ends. Without a server the test is skipped with a loud message, except
// under CI, where it fails: CI never skips.
package testpg

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kuayang/kuayang/internal/auth"
)

// URL creates a database for this test on the test server and
// returns its URL; the database is dropped when the test ends. Without a
// server the test is skipped loudly, except under CI, where it fails.
func URL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("KUAYANG_TEST_POSTGRES_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no PostgreSQL at KUAYANG_TEST_POSTGRES_URL, and CI never skips: %v", err)
		}
		t.Skipf("SKIPPING PostgreSQL end-to-end test: no server (%v); set KUAYANG_TEST_POSTGRES_URL", err)
	}
	defer conn.Close(context.Background())
	name := "kuayang_e2e_" + strings.ToLower(auth.InviteToken()[:10])
	name = strings.NewReplacer("-", "_").Replace(name)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop database: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
