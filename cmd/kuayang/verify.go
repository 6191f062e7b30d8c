package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/tsa"
)

const verifyUsage = `usage: kuayang verify [--key PUBLIC.pem] [--tsa-ca ROOTS.pem] [--quiet] BUNDLE.zip|DIRECTORY

Checks an evidence bundle (or the directory it was unzipped to): the
signature of manifest.json, its trusted timestamp (manifest.tsr) when
there is one, every media file's size and SHA-256, the segment chain and
the audit extract. Prints INTACT and exits 0, or prints NOT INTACT and the
first problem found and exits 1.
`

// verify runs `kuayang verify`.
func verify(args []string, e env) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, verifyUsage, "\nflags:\n")
		fs.PrintDefaults()
	}
	quiet := fs.Bool("quiet", false, "print only the verdict line, no progress")
	keyPath := fs.String("key", "", "require the signature to be by this public key (PEM), e.g. the one the organization publishes")
	tsaCA := fs.String("tsa-ca", "", "require the timestamp to be by an authority these root certificates (PEM) vouch for")
	// Flags may come before or after the bundle.
	var paths []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return 0
		} else if err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		paths = append(paths, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(paths) != 1 {
		fs.Usage()
		return 2
	}
	path := paths[0]
	var want ed25519.PublicKey
	if *keyPath != "" {
		b, err := os.ReadFile(*keyPath)
		if err == nil {
			want, err = evidence.ParsePublicPEM(b)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "kuayang verify: --key %s: %v\n", *keyPath, err)
			return 2
		}
	}
	var roots *x509.CertPool
	if *tsaCA != "" {
		var err error
		if roots, err = tsa.LoadRoots(*tsaCA); err != nil {
			fmt.Fprintf(e.stderr, "kuayang verify: --tsa-ca %s: %v\n", *tsaCA, err)
			return 2
		}
	}

	src, err := openBundle(path)
	var p *evidence.Problem
	if errors.As(err, &p) {
		fmt.Fprintf(e.stdout, "NOT INTACT: %s\n", p.Detail)
		return 1
	} else if err != nil {
		fmt.Fprintf(e.stderr, "kuayang verify: cannot check %s: %v\n", path, err)
		return 1
	}
	defer src.Close()
	bar := &progressBar{w: e.stderr, tty: isTerminal(e.stderr), start: time.Now(), off: *quiet}
	rep, err := evidence.Verify(context.Background(), src, evidence.VerifyOptions{PublicKey: want, TSARoots: roots, Progress: bar.update})
	bar.finish()
	if errors.As(err, &p) {
		fmt.Fprintf(e.stdout, "NOT INTACT: %s\n", p.Detail)
		return 1
	} else if err != nil {
		fmt.Fprintf(e.stderr, "kuayang verify: cannot check %s: %v\n", path, err)
		return 1
	}
	if *quiet {
		withheld := ""
		if n := len(rep.Withheld); n > 0 {
			withheld = fmt.Sprintf("; %s sealed to the mediator withheld", fmtCount(n, "segment", "segments"))
		}
		stamped := ""
		if t := rep.Timestamp; t != nil {
			stamped = fmt.Sprintf("; timestamped by %s at %s", t.Authority, t.Time.UTC().Format(time.RFC3339))
		}
		fmt.Fprintf(e.stdout, "INTACT: signed by key %s of node %s at %s%s%s\n", rep.KeyID, rep.Node, rep.SealedAt.Format(time.RFC3339), stamped, withheld)
		return 0
	}
	printReport(e.stdout, path, rep, want != nil)
	return 0
}

// openBundle opens a directory or a zip file.
func openBundle(path string) (evidence.Source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return evidence.OpenDir(path)
	}
	return evidence.OpenZip(path)
}

func printReport(w io.Writer, path string, r *evidence.Report, keyGiven bool) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("INTACT: %s was signed by key %s of node %s at %s; %s, %s; %s; %s.",
		path, r.KeyID, r.Node, r.SealedAt.UTC().Format("2006-01-02 15:04:05 UTC"),
		fmtCount(r.Segments, "segment", "segments"), fmtBytes(r.Bytes), fmtCount(len(r.Participants), "participant", "participants"), fmtGaps(r.Gaps))
	p("")
	p("  case      %s %q (%s), %s", r.CaseNumber, r.CaseTitle, r.Manifest.Case.Kind, r.OrgName)
	p("  session   %s %q", r.SessionID, r.SessionTitle)
	if s := r.Manifest.Session; !s.StartedAt.IsZero() && !s.EndedAt.IsZero() {
		p("            from %s to %s", s.StartedAt.UTC().Format("2006-01-02 15:04:05"), s.EndedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	p("  software  %s", r.Software)
	p("  chain     %s", r.ChainHead)
	p("  audit     %s about the session in audit.jsonl; the log ended at entry %d when sealed", fmtCount(r.AuditEntries, "entry", "entries"), r.Manifest.Audit.LastSeq)
	printTimestamp(p, r.Timestamp)
	p("  participants:")
	for _, pt := range r.Participants {
		gaps := ""
		if pt.Gaps > 0 {
			gaps = ", " + fmtCount(pt.Gaps, "gap", "gaps")
		}
		screen := ""
		if pt.ScreenSegments > 0 {
			screen = fmt.Sprintf(", %s of screen share in %s", fmtHMS(pt.Screen), fmtCount(pt.ScreenSegments, "segment", "segments"))
		}
		p("    %-12s %-24s %s, %s, %s recorded%s%s", pt.Role, pt.Name, fmtCount(pt.Segments, "segment", "segments"), fmtBytes(pt.Bytes), fmtHMS(pt.Duration), screen, gaps)
	}
	if len(r.Documents) > 0 {
		p("  documents:")
		for _, d := range r.Documents {
			p("    %-10s %s%s  %s, sha256 %s, %s", d.Kind, evidence.DocumentsDir, d.Name, fmtBytes(d.Bytes), d.SHA256, d.At.UTC().Format("2006-01-02 15:04:05 UTC"))
			if d.Detail != "" {
				p("               %s", d.Detail)
			}
			if t := d.Timestamp; t != nil {
				trust := "well signed"
				if t.Trusted {
					trust = "by an authority of --tsa-ca"
				}
				p("               timestamped %s by %s (%s)", t.Time.UTC().Format("2006-01-02 15:04:05 UTC"), t.Authority, trust)
			}
		}
	}
	if len(r.Withheld) > 0 {
		// Not tampering: a recorded private room's media is confidential
		// to the mediator, and the signed manifest still lists its hashes.
		p("  withheld  %s sealed to the mediator (recorded in a private room): their media is", fmtCount(len(r.Withheld), "segment", "segments"))
		p("            not in this bundle; their entries and SHA-256 are in the signed manifest:")
		for _, s := range r.Withheld {
			p("            %s%s  participant %s, room %s, sha256 %s", evidence.MediaDir, s.Key, s.ParticipantID, s.Room, s.SHA256)
		}
	}
	p("")
	if keyGiven {
		p("The signature is by the key you gave (--key): %s.", r.KeyID)
		return
	}
	p("Key fingerprint (SHA-256 of the public key): %s", r.Fingerprint)
	p("INTACT means nothing changed since the holder of this key signed the bundle. To know")
	p("that the key is the organization's, compare the fingerprint with the key it publishes")
	p("(on its node: GET /api/v1/keys), or run again with --key PUBLISHED-KEY.pem.")
}

// printTimestamp says what the bundle's timestamp proves, if it has one.
func printTimestamp(p func(string, ...any), t *evidence.Timestamp) {
	if t == nil {
		p("  timestamp none (the bundle has no manifest.tsr)")
		return
	}
	p("  timestamp manifest.json existed at %s, says timestamp authority %s", t.Time.UTC().Format("2006-01-02 15:04:05 UTC"), t.Authority)
	p("            (serial %s, policy %s)", t.Serial, t.Policy)
	if t.Trusted {
		p("            the authority is one the roots you gave (--tsa-ca) vouch for")
	} else {
		p("            the token is well signed; to check who the authority is, run again with --tsa-ca ROOTS.pem")
	}
}

func fmtGaps(n int) string {
	if n == 0 {
		return "no gaps"
	}
	return fmtCount(n, "gap", "gaps") + " (media missing while a participant was present)"
}

func fmtCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// fmtBytes is n bytes for a person.
func fmtBytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

func fmtHMS(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressBar shows how much media has been checked, once checking takes
// long enough to be worth it: a bar redrawn in place on a terminal, else a
// line now and then.
type progressBar struct {
	w     io.Writer
	tty   bool
	off   bool
	start time.Time
	last  time.Time
	shown bool
}

const (
	progressDelay = time.Second // nothing for quick checks
	ttyEvery      = 100 * time.Millisecond
	lineEvery     = 10 * time.Second // without a terminal
)

func (b *progressBar) update(done, total int64) {
	if b.off || total == 0 {
		return
	}
	now := time.Now()
	every := lineEvery
	if b.tty {
		every = ttyEvery
	}
	if now.Sub(b.start) < progressDelay || now.Sub(b.last) < every {
		return
	}
	b.last = now
	pct := int(done * 100 / total)
	if !b.tty {
		fmt.Fprintf(b.w, "kuayang verify: %d%% of %s checked\n", pct, fmtBytes(total))
		return
	}
	const width = 30
	fill := int(done * width / total)
	fmt.Fprintf(b.w, "\r[%s%s] %3d%%  %s of %s", strings.Repeat("#", fill), strings.Repeat(" ", width-fill), pct, fmtBytes(done), fmtBytes(total))
	b.shown = true
}

// finish clears the bar.
func (b *progressBar) finish() {
	if b.shown {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", 70))
	}
}
