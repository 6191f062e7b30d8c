// Package pdf writes the small, text-and-lines PDF documents the platform
// produces itself (a settlement agreement), and signs them PAdES-style: a
// signature field whose /Contents holds a detached CMS (CAdES) over the
// file's /ByteRange. It knows no more of PDF than that needs.
//
// Text in Latin scripts is set in Helvetica (a standard 14 font, encoded
// WinAnsi); Chinese and any other character WinAnsi lacks in the standard
// non-embedded CJK font STSong-Light (Type0, CIDFontType0, Adobe-GB1,
// UniGB-UTF16-H), which every conforming reader supplies. Each font
// carries a ToUnicode map, so the text can be searched and copied.
package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// A4 portrait, in points.
const (
	PageWidth  = 595.28
	PageHeight = 841.89
	margin     = 56.0
)

// Errors callers branch on.
var (
	// ErrContentsTooSmall: the CMS the signer returned does not fit in the
	// space reserved for it.
	ErrContentsTooSmall = errors.New("pdf: the signature does not fit in its placeholder")
)

// Point is a point of a drawn stroke, in the stroke box's units (0,0 at
// the top left, as a canvas has it).
type Point struct{ X, Y float64 }

// Drawing is a hand-drawn signature: strokes of points in a W×H box.
type Drawing struct {
	W, H    float64
	Strokes [][]Point
}

// Document is a page flow: blocks of text and drawings, laid out top to
// bottom on as many A4 pages as they need, each page with the footer.
type Document struct {
	Title   string
	Author  string
	Subject string
	Footer  string    // printed at the bottom of every page, with the page number
	Created time.Time // the document's CreationDate
	blocks  []block
}

type block struct {
	text    string
	size    float64
	bold    bool
	space   float64 // before the block
	drawing *Drawing
	dw, dh  float64 // the drawing's size on the page
}

// Heading adds a title line (large, bold).
func (d *Document) Heading(text string) {
	d.blocks = append(d.blocks, block{text: text, size: 16, bold: true, space: 6})
}

// Subheading adds a bold line.
func (d *Document) Subheading(text string) {
	d.blocks = append(d.blocks, block{text: text, size: 11.5, bold: true, space: 10})
}

// Paragraph adds text, wrapped to the page; "\n" starts a new line.
func (d *Document) Paragraph(text string) {
	d.blocks = append(d.blocks, block{text: text, size: 10.5, space: 4})
}

// Small adds small text (references, hashes).
func (d *Document) Small(text string) {
	d.blocks = append(d.blocks, block{text: text, size: 8.5, space: 2})
}

// Draw adds a drawing scaled to fit w×h points, framed.
func (d *Document) Draw(dr Drawing, w, h float64) {
	dd := dr
	d.blocks = append(d.blocks, block{drawing: &dd, dw: w, dh: h, space: 4})
}

// run is a piece of a line in one font.
type run struct {
	cjk  bool
	text string
}

// winAnsi maps the characters of WinAnsiEncoding beyond Latin-1 that a
// name or a text may hold to their codes.
var winAnsi = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87,
	'ˆ': 0x88, '‰': 0x89, 'Š': 0x8a, '‹': 0x8b, 'Œ': 0x8c, 'Ž': 0x8e, '‘': 0x91,
	'’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97, '˜': 0x98,
	'™': 0x99, 'š': 0x9a, '›': 0x9b, 'œ': 0x9c, 'ž': 0x9e, 'Ÿ': 0x9f,
}

// latin reports whether r is set in Helvetica, and its WinAnsi code.
func latin(r rune) (byte, bool) {
	switch {
	case r >= 0x20 && r < 0x7f:
		return byte(r), true
	case r >= 0xa0 && r <= 0xff:
		return byte(r), true
	}
	b, ok := winAnsi[r]
	return b, ok
}

// runs splits a line into runs of one font each. Characters outside the
// Basic Multilingual Plane, and control characters, become "?".
func runs(line string) []run {
	var out []run
	for _, r := range line {
		if r > 0xffff || (r < 0x20) || (r >= 0x7f && r < 0xa0) {
			r = '?'
		}
		_, lat := latin(r)
		cjk := !lat
		if n := len(out); n > 0 && out[n-1].cjk == cjk {
			out[n-1].text += string(r)
			continue
		}
		out = append(out, run{cjk: cjk, text: string(r)})
	}
	return out
}

// width estimates the width of text at size: Helvetica's average widths
// for Latin, a full em for CJK. Wrapping errs on the side of short lines.
func width(text string, size float64) float64 {
	w := 0.0
	for _, r := range text {
		switch {
		case r == ' ' || r == 'i' || r == 'l' || r == 'j' || r == '.' || r == ',' || r == '\'' || r == '|' || r == ':' || r == ';' || r == '!':
			w += 0.28
		case r == 'm' || r == 'w' || r == 'M' || r == 'W' || r == '@' || r == '%':
			w += 0.86
		case unicode.IsUpper(r) && r < 0x100:
			w += 0.68
		case r < 0x100 || r == '€' || r == '—' || r == '–':
			w += 0.56
		case unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hangul, r) || unicode.Is(unicode.Hiragana, r) ||
			unicode.Is(unicode.Katakana, r) || (r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef):
			w += 1.0
		default:
			w += 0.6
		}
	}
	return w * size
}

// wrap breaks text into lines no wider than max at size: at spaces in
// Latin text, between any two characters in CJK text.
func wrap(text string, size, max float64) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		if para == "" {
			out = append(out, "")
			continue
		}
		var line strings.Builder
		rs := []rune(para)
		for i := 0; i < len(rs); {
			// the next unit: a word with its trailing space, or one CJK character
			j := i + 1
			if rs[i] < 0x2e80 {
				for j < len(rs) && rs[j] < 0x2e80 && rs[j-1] != ' ' {
					j++
				}
				for j < len(rs) && rs[j] == ' ' {
					j++
				}
			}
			unit := string(rs[i:j])
			if line.Len() > 0 && width(line.String()+strings.TrimRight(unit, " "), size) > max {
				out = append(out, strings.TrimRight(line.String(), " "))
				line.Reset()
			}
			if line.Len() == 0 && width(unit, size) > max {
				// a word longer than the line (a hash): cut it
				for _, r := range unit {
					if line.Len() > 0 && width(line.String()+string(r), size) > max {
						out = append(out, line.String())
						line.Reset()
					}
					line.WriteRune(r)
				}
			} else {
				line.WriteString(unit)
			}
			i = j
		}
		out = append(out, strings.TrimRight(line.String(), " "))
	}
	return out
}

// pdfString is a literal string: parentheses and backslashes escaped,
// bytes outside printable ASCII in octal.
func pdfString(b []byte) string {
	var s strings.Builder
	s.WriteByte('(')
	for _, c := range b {
		switch {
		case c == '(' || c == ')' || c == '\\':
			s.WriteByte('\\')
			s.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			fmt.Fprintf(&s, "\\%03o", c)
		default:
			s.WriteByte(c)
		}
	}
	s.WriteByte(')')
	return s.String()
}

// textString is a text string for the document's dictionaries (Info, the
// signature's Name): UTF-16BE with a byte order mark, in hex.
func textString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, r := range s {
		if r > 0xffff {
			r = '?'
		}
		fmt.Fprintf(&b, "%04X", r)
	}
	b.WriteString(">")
	return b.String()
}

// showRun is the operators that show one run.
func showRun(w *bytes.Buffer, r run, size float64, bold bool) {
	if r.cjk {
		fmt.Fprintf(w, "/F3 %.2f Tf <", size)
		for _, c := range r.text {
			fmt.Fprintf(w, "%04X", c)
		}
		w.WriteString("> Tj\n")
		return
	}
	font := "/F1"
	if bold {
		font = "/F2"
	}
	enc := make([]byte, 0, len(r.text))
	for _, c := range r.text {
		b, _ := latin(c)
		enc = append(enc, b)
	}
	fmt.Fprintf(w, "%s %.2f Tf %s Tj\n", font, size, pdfString(enc))
}

// pageContent lays the blocks out; it returns one content stream per page.
func (d *Document) layout() [][]byte {
	var pages [][]byte
	var cur *bytes.Buffer
	y := 0.0
	newPage := func() {
		cur = &bytes.Buffer{}
		pages = append(pages, nil)
		y = PageHeight - margin
	}
	flush := func() { pages[len(pages)-1] = cur.Bytes() }
	newPage()
	maxW := PageWidth - 2*margin
	for _, b := range d.blocks {
		y -= b.space
		if b.drawing != nil {
			if y-b.dh < margin+24 {
				flush()
				newPage()
			}
			drawStrokes(cur, *b.drawing, margin, y-b.dh, b.dw, b.dh)
			y -= b.dh
			continue
		}
		lead := b.size * 1.45
		for _, line := range wrap(b.text, b.size, maxW) {
			if y-lead < margin+24 {
				flush()
				newPage()
			}
			y -= lead
			if line == "" {
				continue
			}
			fmt.Fprintf(cur, "BT 1 0 0 1 %.2f %.2f Tm\n", margin, y)
			for _, r := range runs(line) {
				showRun(cur, r, b.size, b.bold)
			}
			cur.WriteString("ET\n")
		}
	}
	flush()
	for i := range pages {
		var foot bytes.Buffer
		foot.Write(pages[i])
		text := fmt.Sprintf("%s  ·  %d / %d", d.Footer, i+1, len(pages))
		fmt.Fprintf(&foot, "0.5 g BT 1 0 0 1 %.2f %.2f Tm\n", margin, margin-20)
		for _, r := range runs(text) {
			showRun(&foot, r, 8, false)
		}
		foot.WriteString("ET 0 g\n")
		pages[i] = foot.Bytes()
	}
	return pages
}

// drawStrokes draws dr scaled into the box (x, y, w, h) (y its bottom),
// framed in grey, as stroked vector paths.
func drawStrokes(w *bytes.Buffer, dr Drawing, x, y, bw, bh float64) {
	fmt.Fprintf(w, "q 0.6 G 0.5 w %.2f %.2f %.2f %.2f re S Q\n", x, y, bw, bh)
	if dr.W <= 0 || dr.H <= 0 {
		return
	}
	s := min(bw/dr.W, bh/dr.H)
	ox := x + (bw-dr.W*s)/2
	oy := y + (bh-dr.H*s)/2
	w.WriteString("q 0 0 0.45 RG 1.4 w 1 J 1 j\n")
	for _, st := range dr.Strokes {
		for i, p := range st {
			px, py := ox+p.X*s, oy+(dr.H-p.Y)*s // canvas y grows downwards
			op := "l"
			if i == 0 {
				op = "m"
			}
			fmt.Fprintf(w, "%.2f %.2f %s\n", px, py, op)
		}
		if len(st) == 1 { // a dot
			p := st[0]
			fmt.Fprintf(w, "%.2f %.2f l\n", ox+p.X*s+0.1, oy+(dr.H-p.Y)*s)
		}
		if len(st) > 0 {
			w.WriteString("S\n")
		}
	}
	w.WriteString("Q\n")
}

// validUTF8 reports an error for text that is not UTF-8.
func validUTF8(fields ...string) error {
	for _, f := range fields {
		if !utf8.ValidString(f) {
			return errors.New("pdf: text is not valid UTF-8")
		}
	}
	return nil
}
