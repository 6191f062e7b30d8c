package pdf

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sample() *Document {
	d := &Document{Title: "调解协议 Accordo di mediazione", Author: "Kuayang", Subject: "(2026)浙0328民调123号",
		Footer: "会话 Session 3f2a · (2026)浙0328民调123号", Created: time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)}
	d.Heading("调解协议书 / Accordo di mediazione")
	d.Small("案号 Case: (2026)浙0328民调123号")
	d.Paragraph("甲方同意于2026年12月31日前向乙方支付人民币伍万元整（¥50,000）。\nLa parte A verserà € 50.000 entro il 31/12/2026; perché è così.")
	d.Paragraph(strings.Repeat("Una clausola lunga che va a capo più volte nella pagina. ", 40))
	for i := range 60 {
		d.Paragraph("第" + strconv.Itoa(i+1) + "条 双方确认本协议系自愿达成。")
	}
	d.Subheading("签名 Firma: Marco Rossi")
	d.Draw(Drawing{W: 400, H: 150, Strokes: [][]Point{{{10, 10}, {100, 120}, {200, 40}}, {{300, 75}}}}, 200, 75)
	d.Small("SHA-256: " + strings.Repeat("ab", 32))
	return d
}

// checkXref checks that every in-use xref entry points at its object.
func checkXref(t *testing.T, b []byte) {
	t.Helper()
	m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no startxref at the end")
	}
	at, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(b[at:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d does not point at the xref table", at)
	}
	lines := strings.Split(string(b[at:]), "\n")
	n, _ := strconv.Atoi(strings.Fields(lines[1])[1])
	if n < objFirstPage+2 {
		t.Fatalf("xref has %d entries", n)
	}
	for i := 1; i < n; i++ {
		e := lines[2+i]
		if len(e) != 19 { // 20 bytes with the newline
			t.Fatalf("xref entry %d %q is not 20 bytes", i, e)
		}
		off, _ := strconv.Atoi(e[:10])
		if want := strconv.Itoa(i) + " 0 obj\n"; !bytes.HasPrefix(b[off:], []byte(want)) {
			t.Fatalf("xref entry %d points at %q, not %q", i, b[off:min(off+12, len(b))], want)
		}
	}
}

func TestDocumentStructure(t *testing.T) {
	b, err := sample().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	checkXref(t, b)
	s := string(b)
	for _, want := range []string{
		"/BaseFont /STSong-Light", "/Registry (Adobe) /Ordering (GB1)", "/Encoding /UniGB-UTF16-H",
		"/BaseFont /Helvetica /Encoding /WinAnsiEncoding",
		"<8C0389E3534F8BAE4E66>",               // 调解协议书 in UTF-16BE
		"(La parte A verser\\340 \\200 50.000", // à and € in WinAnsi
		" m\n", " l\n", "S\n",                  // the strokes
		"1 J 1 j",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
	if c := strings.Count(s, "/Type /Page "); c < 2 {
		t.Errorf("%d pages: the long text should need at least 2", c)
	}
	if strings.Contains(s, "/ByteRange") {
		t.Error("an unsigned document has a signature")
	}
	checkTools(t, b, "调解协议书", "Marco Rossi", "verserà € 50.000")
}

// checkTools checks b with qpdf and poppler when they are installed.
func checkTools(t *testing.T, b []byte, texts ...string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("qpdf"); err != nil {
		requireTool(t, "qpdf")
	} else if out, err := exec.Command("qpdf", "--check", path).CombinedOutput(); err != nil || !bytes.Contains(out, []byte("No syntax or stream encoding errors")) {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		requireTool(t, "pdftotext (poppler-utils)")
		return
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	for _, want := range texts {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("pdftotext does not find %q in:\n%.600s", want, out)
		}
	}
}

// requireTool skips a check whose tool is missing, except under CI.
func requireTool(t *testing.T, name string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (CI installs it)", name)
	}
	t.Logf("skipping the %s check: %s is not installed", name, name)
}

// opensslKey makes an EC key and a self-signed certificate with openssl.
func opensslKey(t *testing.T) (dir string) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		requireTool(t, "openssl")
		t.SkipNow()
	}
	dir = t.TempDir()
	cmd := exec.Command("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		"-keyout", "key.pem", "-out", "cert.pem", "-days", "2", "-subj", "/O=Test Mediation Centre/CN=node-1")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	return dir
}

// opensslSign is a SignFunc made of the openssl CLI.
func opensslSign(t *testing.T, dir string) SignFunc {
	return func(content []byte) ([]byte, error) {
		in := filepath.Join(dir, "byterange.bin")
		if err := os.WriteFile(in, content, 0o600); err != nil {
			return nil, err
		}
		cmd := exec.Command("openssl", "cms", "-sign", "-binary", "-outform", "DER", "-md", "sha256",
			"-signer", "cert.pem", "-inkey", "key.pem", "-in", "byterange.bin")
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Logf("openssl cms -sign: %s", stderr.String())
		}
		return out, err
	}
}

func TestSignVerifiesWithOpenSSL(t *testing.T) {
	dir := opensslKey(t)
	at := time.Date(2026, 11, 27, 15, 30, 0, 0, time.UTC)
	b, err := sample().Sign(SignOptions{Name: "Test Mediation Centre (node-1)", Reason: "调解协议 settlement agreement", Location: "session 3f2a", Time: at},
		opensslSign(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	checkXref(t, b)
	s := string(b)
	for _, want := range []string{"/SubFilter /ETSI.CAdES.detached", "/FT /Sig", "/SigFlags 3", "/M (D:20261127153000Z)"} {
		if !strings.Contains(s, want) {
			t.Errorf("the signed PDF lacks %q", want)
		}
	}
	content, cms, err := Signed(b)
	if err != nil {
		t.Fatal(err)
	}
	// The range covers everything but the /Contents value.
	start := strings.Index(s, "/Contents <") + len("/Contents ")
	end := start + strings.Index(s[start:], ">") + 1
	if !bytes.Equal(content, append([]byte(s[:start]), s[end:]...)) {
		t.Fatal("the byte range does not cover exactly the file but /Contents")
	}
	if err := os.WriteFile(filepath.Join(dir, "content.bin"), content, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sig.der"), cms, 0o600); err != nil {
		t.Fatal(err)
	}
	verify := func() ([]byte, error) {
		cmd := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.der", "-content", "content.bin", "-noverify", "-out", os.DevNull)
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}
	if out, err := verify(); err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	// A changed byte outside /Contents breaks it.
	content[100] ^= 1
	if err := os.WriteFile(filepath.Join(dir, "content.bin"), content, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := verify(); err == nil {
		t.Fatalf("openssl verified a changed document:\n%s", out)
	}
	checkTools(t, b, "调解协议书")
	if _, err := exec.LookPath("pdfsig"); err == nil {
		path := filepath.Join(dir, "signed.pdf")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command("pdfsig", "-nocert", path).CombinedOutput()
		if !bytes.Contains(out, []byte("ETSI.CAdES.detached")) || !bytes.Contains(out, []byte("Signature is Valid")) {
			t.Errorf("pdfsig does not find a valid CAdES signature:\n%s", out)
		}
	}
}

func TestSignRefusesOversizedCMS(t *testing.T) {
	_, err := sample().Sign(SignOptions{Reserve: 64}, func([]byte) ([]byte, error) { return bytes.Repeat([]byte{1}, 65), nil })
	if err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Fatalf("err = %v, want the placeholder too small", err)
	}
}

func TestWrapCJKAndLatin(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		lines      int
	}{
		{"short", "Hello", 1},
		{"newlines", "a\n\nb", 3},
		{"cjk", strings.Repeat("调", 100), 3},
		{"hash", strings.Repeat("a", 200), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := wrap(tc.text, 10, 400)
			if len(got) < tc.lines {
				t.Fatalf("%d lines %q, want at least %d", len(got), got, tc.lines)
			}
			for _, l := range got {
				if width(l, 10) > 400 {
					t.Errorf("line %q is wider than the page", l)
				}
			}
			if strings.Join(got, "") != strings.ReplaceAll(strings.ReplaceAll(tc.text, "\n", ""), " ", "") && tc.name == "cjk" {
				t.Error("CJK text lost characters when wrapped")
			}
		})
	}
}
