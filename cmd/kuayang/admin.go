package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/node"
	"github.com/kuayang/kuayang/internal/store"
)

// env is what a subcommand runs with.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// withStore loads the configuration (with the subcommand's own flags),
// opens the store and runs f.
func withStore(args []string, e env, flags func(*flag.FlagSet), f func(context.Context, store.Store) error) int {
	cfg, err := config.LoadWith(args, os.Getenv, flags)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "kuayang:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		fmt.Fprintln(e.stderr, "kuayang:", err)
		return 1
	}
	st, err := node.OpenStore(ctx, cfg)
	if err != nil {
		fmt.Fprintln(e.stderr, "kuayang:", err)
		return 1
	}
	defer st.Close()
	if err := f(ctx, st); err != nil {
		fmt.Fprintln(e.stderr, "kuayang:", err)
		return 1
	}
	return 0
}

func migrate(args []string, e env) int {
	return withStore(args, e, nil, func(context.Context, store.Store) error {
		// Opening a store applies its migrations.
		fmt.Fprintln(e.stdout, "the database schema is up to date")
		return nil
	})
}

func admin(args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return 2
	}
	switch args[0] {
	case "create-org":
		return createOrg(args[1:], e)
	case "create-user":
		return createUser(args[1:], e)
	case "list-users":
		return listUsers(args[1:], e)
	}
	fmt.Fprintf(e.stderr, "kuayang admin: unknown command %q\n", args[0])
	return 2
}

func createOrg(args []string, e env) int {
	var name string
	flags := func(fs *flag.FlagSet) { fs.StringVar(&name, "name", "", "the organization's name") }
	return withStore(args, e, flags, func(ctx context.Context, st store.Store) error {
		name = strings.TrimSpace(name)
		if name == "" {
			return errors.New("--name is required")
		}
		o := &cases.Org{ID: store.NewID(), Name: name, CreatedAt: time.Now().UTC()}
		if err := st.CreateOrg(ctx, o); errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("an organization named %q already exists", name)
		} else if err != nil {
			return err
		}
		appendAudit(ctx, st, e, &audit.Entry{Action: "org.create", OrgID: o.ID, Detail: fmt.Sprintf(`{"name":%q}`, name)})
		fmt.Fprintf(e.stdout, "created organization %q (%s)\n", o.Name, o.ID)
		return nil
	})
}

type userFlags struct {
	org, role, email, name, password string
}

func createUser(args []string, e env) int {
	var u userFlags
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&u.org, "org", "", "the organization's name")
		fs.StringVar(&u.role, "role", "", "admin, clerk, mediator, notary or judge")
		fs.StringVar(&u.email, "email", "", "the login email")
		fs.StringVar(&u.name, "display-name", "", "the name shown to others (default: the email)")
		fs.StringVar(&u.password, "password", "", "the password (default: read from standard input)")
	}
	return withStore(args, e, flags, func(ctx context.Context, st store.Store) error {
		a, err := newAccount(ctx, st, u, e)
		if err != nil {
			return err
		}
		if err := st.CreateAccount(ctx, a); errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("an account with email %s already exists", a.Email)
		} else if err != nil {
			return err
		}
		appendAudit(ctx, st, e, &audit.Entry{Action: "account.create", OrgID: a.OrgID,
			Detail: fmt.Sprintf(`{"account_id":%q,"email":%q,"role":%q}`, a.ID, a.Email, a.Role)})
		fmt.Fprintf(e.stdout, "created %s %s (%s)\n", a.Role, a.Email, a.ID)
		return nil
	})
}

func newAccount(ctx context.Context, st store.Store, u userFlags, e env) (*cases.Account, error) {
	role := cases.Role(u.role)
	if !auth.IsStaffRole(role) {
		return nil, errors.New("--role must be admin, clerk, mediator, notary or judge")
	}
	email := strings.ToLower(strings.TrimSpace(u.email))
	if !strings.Contains(email, "@") || len(email) > 254 {
		return nil, errors.New("--email must be an email address")
	}
	org, err := st.OrgByName(ctx, u.org)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no organization named %q (kuayang admin create-org --name …)", u.org)
	} else if err != nil {
		return nil, err
	}
	pw := u.password
	if pw == "" {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return nil, errors.New("no password: give --password or write it to standard input")
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if len(pw) < 10 {
		return nil, errors.New("the password must have at least 10 characters")
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(u.name)
	if name == "" {
		name = email
	}
	return &cases.Account{ID: store.NewID(), OrgID: org.ID, Email: email, Name: name, Role: role,
		PasswordHash: hash, CreatedAt: time.Now().UTC()}, nil
}

func listUsers(args []string, e env) int {
	var org string
	flags := func(fs *flag.FlagSet) { fs.StringVar(&org, "org", "", "only this organization (name)") }
	return withStore(args, e, flags, func(ctx context.Context, st store.Store) error {
		orgID := ""
		if org != "" {
			o, err := st.OrgByName(ctx, org)
			if err != nil {
				return fmt.Errorf("organization %q: %w", org, err)
			}
			orgID = o.ID
		}
		orgs, err := st.Orgs(ctx)
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, o := range orgs {
			names[o.ID] = o.Name
		}
		accounts, err := st.Accounts(ctx, orgID)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "EMAIL\tROLE\tNAME\tORGANIZATION\tDISABLED")
		for _, a := range accounts {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\n", a.Email, a.Role, a.Name, names[a.OrgID], a.DisabledAt != nil)
		}
		return w.Flush()
	})
}

// appendAudit records an administrative action by the system.
func appendAudit(ctx context.Context, st store.Store, e env, a *audit.Entry) {
	a.Time, a.ActorKind, a.ActorID = time.Now(), audit.ActorSystem, "cli"
	if err := st.AppendAudit(ctx, a); err != nil {
		fmt.Fprintln(e.stderr, "kuayang: warning: audit entry not written:", err)
	}
}

// auditCmd runs `kuayang audit verify`.
func auditCmd(args []string, e env) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(e.stderr, "usage: kuayang audit verify [flags]")
		return 2
	}
	broken := false
	code := withStore(args[1:], e, nil, func(ctx context.Context, st store.Store) error {
		var c audit.Checker
		f := audit.Filter{Limit: 1000}
		for {
			page, err := st.AuditEntries(ctx, f)
			if err != nil {
				return err
			}
			for _, entry := range page {
				if err := c.Check(entry); err != nil {
					broken = true
					fmt.Fprintf(e.stdout, "BROKEN: %v\n", err)
					return nil
				}
			}
			if len(page) < f.Limit {
				break
			}
			f.AfterSeq = page[len(page)-1].Seq
		}
		if last := c.Last(); last != nil {
			fmt.Fprintf(e.stdout, "audit log intact: %d entries, last entry %d at %s, hash %x\n",
				c.Count(), last.Seq, last.Time.Format(time.RFC3339), last.Hash)
		} else {
			fmt.Fprintln(e.stdout, "audit log intact: no entries")
		}
		return nil
	})
	if code == 0 && broken {
		return 1
	}
	return code
}
