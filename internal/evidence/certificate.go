package evidence

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

//go:embed certificate.html
var certificateFS embed.FS

// certificateTemplate is the printable certificate. html/template escapes
// every value; the page has no script and takes its only style from the
// stylesheet it links.
var certificateTemplate = template.Must(template.ParseFS(certificateFS, "certificate.html"))

// Certificate is what the printed certificate of a sealed recording says:
// the manifest, and the facts a reader needs to check the bundle against
// it.
type Certificate struct {
	Manifest       *Manifest
	ManifestSHA256 string // hex, of manifest.json as stored
	Fingerprint    string // of the signing key (Fingerprint)
	BundleName     string // the bundle's file name, for the verify command
	Stylesheet     string // URL of the stylesheet, e.g. /static/certificate.css
	IssuedAt       time.Time
	IssuedBy       string // the person who printed it
	// Timestamp is the manifest's verified trusted timestamp
	// (VerifyTimestamp), nil when it has none.
	Timestamp *Timestamp
}

// WriteCertificate writes c as an HTML page for printing: case,
// organization, session, participants with their role, language, consent
// and presence, every segment with its SHA-256, the manifest's SHA-256,
// the chain head, the signing key and how to verify the bundle offline.
// Times are given in UTC and in the session's time zone.
func WriteCertificate(w io.Writer, c Certificate) error {
	if err := certificateTemplate.Execute(w, newCertView(c)); err != nil {
		return fmt.Errorf("evidence: certificate: %w", err)
	}
	return nil
}

// certView is the certificate with every value ready to print.
type certView struct {
	Certificate
	M            *Manifest
	Zone         string // the session's time zone, "" if it is UTC or unknown
	SealedAt     when
	Scheduled    when
	Started      when
	Ended        when
	IssuedAt     when
	StampedAt    when // the timestamp's time, if any
	Participants []certParticipant
	Segments     []certSegment
	Gaps         []certGap
	TotalBytes   int64
	Verify       string // the verify command
	VerifyKey    string // the verify command with the published key
}

// when is a time in UTC and in the session's zone; empty if unknown.
type when struct{ UTC, Local string }

type certParticipant struct {
	Name, Role, Language, ID string
	Consent                  when
	Presence                 []string
}

type certSegment struct {
	Participant, Key, SHA256 string
	Index                    int
	Start                    when
	Seconds                  string
	Bytes                    int64
}

type certGap struct {
	Participant, Reason string
	From, To            when
}

func newCertView(c Certificate) *certView {
	m := c.Manifest
	loc, zone := sessionZone(m.Session.TimeZone)
	at := func(t time.Time) when { return whenOf(t, loc, zone) }
	v := &certView{Certificate: c, M: m, Zone: zone, SealedAt: at(m.SealedAt.Time),
		Scheduled: at(m.Session.ScheduledStart.Time), Started: at(m.Session.StartedAt.Time),
		Ended: at(m.Session.EndedAt.Time), IssuedAt: at(c.IssuedAt),
		Verify:    "kuayang verify " + shellQuote(c.BundleName),
		VerifyKey: "kuayang verify --key " + shellQuote(keyFileName(m.KeyID)) + " " + shellQuote(c.BundleName)}
	if c.Timestamp != nil {
		v.StampedAt = at(c.Timestamp.Time)
	}
	names := map[string]string{}
	for _, p := range m.Participants {
		names[p.ID] = p.Name
		cp := certParticipant{Name: p.Name, Role: p.Role, Language: p.Language, ID: p.ID, Consent: at(p.ConsentAt.Time)}
		for _, pr := range p.Presence {
			span := at(pr.JoinedAt.Time).UTC + " – "
			if pr.LeftAt.IsZero() {
				span += "…"
			} else {
				span += at(pr.LeftAt.Time).UTC
			}
			cp.Presence = append(cp.Presence, span)
		}
		v.Participants = append(v.Participants, cp)
	}
	for _, s := range m.Segments {
		v.Segments = append(v.Segments, certSegment{Participant: names[s.ParticipantID], Key: s.Key, SHA256: s.SHA256,
			Index: s.Index, Start: at(s.WallStart.Time), Seconds: fmt.Sprintf("%.1f", s.MediaEnd-s.MediaStart), Bytes: s.Bytes})
		v.TotalBytes += s.Bytes
	}
	for _, g := range m.Gaps {
		v.Gaps = append(v.Gaps, certGap{Participant: names[g.ParticipantID], Reason: g.Reason, From: at(g.From.Time), To: at(g.To.Time)})
	}
	return v
}

// sessionZone loads the session's zone; nil and "" when it is UTC or
// unknown.
func sessionZone(name string) (*time.Location, string) {
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" || loc == time.UTC || name == "UTC" {
		return nil, ""
	}
	return loc, name
}

func whenOf(t time.Time, loc *time.Location, zone string) when {
	if t.IsZero() {
		return when{}
	}
	w := when{UTC: t.UTC().Format("2006-01-02 15:04:05 UTC")}
	if loc != nil {
		w.Local = t.In(loc).Format("2006-01-02 15:04:05") + " " + zone
	}
	return w
}

// keyFileName is the file a clerk saves the organization's published key
// to, for the verify command: ed25519-<16 hex>.pem.
func keyFileName(keyID string) string {
	return strings.ReplaceAll(keyID, ":", "-") + ".pem"
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
