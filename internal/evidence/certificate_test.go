package evidence

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestWriteCertificate(t *testing.T) {
	f := newFixture(t)
	m, err := DecodeManifest(f.manifest)
	if err != nil {
		t.Fatal(err)
	}
	m.Participants[0].Name = `Niccolò <script>alert(1)</script>`
	c := Certificate{Manifest: m, ManifestSHA256: sha256Hex(f.manifest), Fingerprint: Fingerprint(f.key.Public),
		BundleName: "kuayang-2026-12-s1.zip", Stylesheet: "/static/certificate.css",
		IssuedAt: t0.Add(time.Hour), IssuedBy: "Clerk Sun"}
	var b bytes.Buffer
	if err := WriteCertificate(&b, c); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		`<link rel="stylesheet" href="/static/certificate.css">`,
		"Wencheng Notary Office", "(2026)浙温证字第12号", "Power of attorney &lt;Milan&gt;", "Signing", "s1",
		"Niccolò &lt;script&gt;alert(1)&lt;/script&gt;", "interpreter", "Zhang Wei", "zh-CN", "it",
		"2026-11-27 08:02:00 UTC",                           // Zhang Wei's consent
		"(2026-11-27 16:02:00 Asia/Shanghai)",               // and in the session's zone
		"2026-11-27 08:02:00 UTC – 2026-11-27 08:04:00 UTC", // a stretch of presence
		"Sealed", "2026-11-27 08:10:00 UTC", "(2026-11-27 16:10:00 Asia/Shanghai)",
		c.ManifestSHA256, m.ChainHead, m.KeyID, c.Fingerprint,
		m.Segments[5].SHA256, "media/" + m.Segments[5].Key,
		"kuayang verify kuayang-2026-12-s1.zip",
		"kuayang verify --key " + strings.ReplaceAll(m.KeyID, ":", "-") + ".pem kuayang-2026-12-s1.zip",
		"disconnect", "Clerk Sun",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the certificate lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "style=", "<style", "javascript:"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("the certificate holds %q", bad)
		}
	}
	if handler := regexp.MustCompile(`(?i)\son[a-z]+\s*=`).FindString(page); handler != "" {
		t.Errorf("the certificate holds an event handler: %q", handler)
	}
	if n := strings.Count(page, "<code class=\"hash\">"); n < len(m.Segments)+3 {
		t.Errorf("%d hashes printed, want at least %d", n, len(m.Segments)+3)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"kuayang-2026-ab.zip": "kuayang-2026-ab.zip",
		"a b.zip":             "'a b.zip'",
		"it's.zip":            `'it'\''s.zip'`,
		"":                    "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
