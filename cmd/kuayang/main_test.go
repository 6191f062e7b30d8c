package main

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/kuayang/kuayang/internal/testpg"
)

// kuayang runs the command with args and stdin; it returns the exit code
// and what it printed.
func kuayang(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// execer runs raw SQL on the store under test (for tampering).
type execer func(t *testing.T, q string)

func TestAdminAndAuditVerify(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		checkAdmin(t, []string{"--data-dir", dir}, func(t *testing.T, q string) {
			db, err := sql.Open("sqlite", filepath.Join(dir, "kuayang.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		})
	})
	t.Run("postgres", func(t *testing.T) {
		pg := testpg.URL(t) // skips loudly (fails under CI) without a server
		checkAdmin(t, []string{"--data-dir", t.TempDir(), "--postgres-url", pg}, func(t *testing.T, q string) {
			c, err := pgx.Connect(context.Background(), pg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(context.Background())
			if _, err := c.Exec(context.Background(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		})
	})
}

func checkAdmin(t *testing.T, flags []string, exec execer) {
	args := func(a ...string) []string { return append(a, flags...) }
	if code, out, errOut := kuayang(t, "", args("migrate")...); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := kuayang(t, "", args("admin", "create-org", "--name", "Wencheng Notary Office")...); code != 0 {
		t.Fatalf("create-org: %s", errOut)
	}
	if code, _, errOut := kuayang(t, "", args("admin", "create-org", "--name", "Wencheng Notary Office")...); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("duplicate org: %d %s", code, errOut)
	}
	code, _, errOut := kuayang(t, "a long enough secret\n", args("admin", "create-user", "--org", "Wencheng Notary Office", "--role", "notary", "--email", "Notary@Example.org")...)
	if code != 0 {
		t.Fatalf("create-user: %s", errOut)
	}
	for _, bad := range [][]string{
		{"--org", "Nowhere", "--role", "clerk", "--email", "c@example.org", "--password", "0123456789"},
		{"--org", "Wencheng Notary Office", "--role", "party", "--email", "c@example.org", "--password", "0123456789"},
		{"--org", "Wencheng Notary Office", "--role", "clerk", "--email", "c@example.org", "--password", "short"},
		{"--org", "Wencheng Notary Office", "--role", "clerk", "--email", "notary@example.org", "--password", "0123456789"},
	} {
		if code, _, errOut := kuayang(t, "", args(append([]string{"admin", "create-user"}, bad...)...)...); code == 0 || errOut == "" {
			t.Errorf("create-user %v: accepted", bad)
		}
	}
	code, out, _ := kuayang(t, "", args("admin", "list-users")...)
	if code != 0 || !strings.Contains(out, "notary@example.org") || !strings.Contains(out, "Wencheng Notary Office") {
		t.Fatalf("list-users: %d %s", code, out)
	}
	code, out, _ = kuayang(t, "", args("audit", "verify")...)
	if code != 0 || !strings.Contains(out, "intact: 2 entries") {
		t.Fatalf("verify intact: %d %s", code, out)
	}
	// A third entry, then tamper with the second.
	kuayang(t, "", args("admin", "create-org", "--name", "Milan Service Center")...)
	exec(t, "UPDATE audit_log SET detail = '{}' WHERE seq = 2")
	code, out, _ = kuayang(t, "", args("audit", "verify")...)
	if code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "entry 2") {
		t.Fatalf("verify altered: %d %s", code, out)
	}
	exec(t, "DELETE FROM audit_log WHERE seq = 2")
	code, out, _ = kuayang(t, "", args("audit", "verify")...)
	if code != 1 || !strings.Contains(out, "at entry 3: expected entry 2") {
		t.Fatalf("verify deleted: %d %s", code, out)
	}
}

func TestUsage(t *testing.T) {
	if code, _, errOut := kuayang(t, "", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("%d %s", code, errOut)
	}
	if code, out, _ := kuayang(t, "", "version"); code != 0 || !strings.HasPrefix(out, "kuayang ") {
		t.Fatalf("%d %s", code, out)
	}
	if code, _, errOut := kuayang(t, "", "serve", "--udp-port", "99999"); code != 2 || !strings.Contains(errOut, "udp-port") {
		t.Fatalf("%d %s", code, errOut)
	}
}
