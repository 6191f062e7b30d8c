package node

import (
	"context"
	"crypto/sha256"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/pdf"
	"github.com/kuayang/kuayang/internal/tsa"
	"github.com/kuayang/kuayang/internal/tsa/tsatest"
)

// What the evidence of an act costs the node (docs/benchmarks.md, "The
// act's evidence"): a settlement's PDF made and signed, and a trusted
// timestamp over a digest from an authority on loopback, made and
// verified.

// settlementPDF is a two-party settlement of about a page and a half of
// terms, in Chinese and Italian, with two drawn signatures.
func settlementPDF() *pdf.Document {
	d := &pdf.Document{Title: "调解协议 / Accordo di mediazione", Footer: "(2026)浙温调字第12号 · s1", Created: time.Unix(1_800_000_000, 0)}
	d.Heading("调解协议 / Accordo di mediazione")
	for range 12 {
		d.Paragraph(strings.Repeat("双方同意，甲方于二〇二七年一月三十一日前向乙方支付人民币五万元整。 ", 3) +
			"Le parti concordano che la prima parte versi alla seconda cinquantamila yuan entro il 31 gennaio 2027.")
	}
	for range 2 {
		var strokes [][]pdf.Point
		for s := range 6 {
			var pts []pdf.Point
			for i := range 60 {
				x := float64(s*60+i) * 0.8
				pts = append(pts, pdf.Point{X: x, Y: 60 + 30*math.Sin(x/9)})
			}
			strokes = append(strokes, pts)
		}
		d.Subheading("Chen Wei / Marco Rossi")
		d.Draw(pdf.Drawing{W: 300, H: 120, Strokes: strokes}, 180, 72)
	}
	return d
}

func BenchmarkSettlementPDFSigned(b *testing.B) {
	key, err := evidence.LoadOrCreateDocumentKey(filepath.Join(b.TempDir(), "k.pem"))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	var size int
	for b.Loop() {
		out, err := settlementPDF().Sign(pdf.SignOptions{Name: "Milano Mediation Centre (node-1)", Time: now}, func(content []byte) ([]byte, error) {
			return signPDF(key, "Milano Mediation Centre", "node-1", content, now)
		})
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(size), "pdf-bytes")
}

func BenchmarkTimestampLoopback(b *testing.B) {
	authority := tsatest.New(b)
	client := authority.Client()
	digest := sha256.Sum256([]byte("manifest.json"))
	var size int
	for b.Loop() {
		tok, err := client.Stamp(context.Background(), digest[:])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tsa.Verify(tok, digest[:], authority.Roots); err != nil {
			b.Fatal(err)
		}
		size = len(tok)
	}
	b.ReportMetric(float64(size), "token-bytes")
}
