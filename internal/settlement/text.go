package settlement

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kuayang/kuayang/internal/pdf"
	"github.com/kuayang/kuayang/internal/store/sqlbase"
)

// MaxText bounds an agreement's text, in characters.
const MaxText = 12000

// Canonical is the form of an agreement's text that is stored, shown,
// hashed and signed: Unicode NFC, lines ended by "\n" without trailing
// white space, no blank lines at the start or the end, no final newline.
// Two texts that read the same hash the same.
func Canonical(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(norm.NFC.String(text), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

// Hash is the SHA-256 of the canonical text, in hex: what signers sign.
func Hash(canonical string) string {
	h := sha256.Sum256([]byte(canonical))
	return hex.EncodeToString(h[:])
}

// checkText checks a text a mediator saves.
func checkText(text string) error {
	switch {
	case !utf8.ValidString(text):
		return errorf(CodeBadText, "the text is not valid UTF-8")
	case strings.TrimSpace(text) == "":
		return errorf(CodeBadText, "the text is empty")
	case utf8.RuneCountInString(text) > MaxText:
		return errorf(CodeBadText, "the text is longer than %d characters", MaxText)
	}
	return nil
}

// NameMatches reports whether a typed name is close enough to the
// participant's name: the same letters and digits ignoring case, accents,
// width, punctuation and the order of the words ("ROSSI Marco" is
// "Marco Rossi"; "张 三" is "张三").
func NameMatches(typed, name string) bool {
	a, b := nameWords(typed), nameWords(name)
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	if strings.Join(a, "") == strings.Join(b, "") {
		return true
	}
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func nameWords(s string) []string {
	return strings.FieldsFunc(sqlbase.Fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}

// Limits of a drawn signature.
const (
	MaxBox     = 2000 // width and height of the drawing box, in its units
	MaxStrokes = 64
	MaxPoints  = 2000 // over all strokes
)

// Drawing is a drawn signature as it travels: a W×H box (the canvas, in
// its pixels, origin top left) and strokes, each a flat list of integer
// coordinates x0, y0, x1, y1, ….
type Drawing struct {
	W       int     `json:"w"`
	H       int     `json:"h"`
	Strokes [][]int `json:"strokes"`
}

// Check checks the drawing's box, size and points.
func (d Drawing) Check() error {
	if d.W <= 0 || d.H <= 0 || d.W > MaxBox || d.H > MaxBox {
		return errorf(CodeBadSignature, "the drawing box must be 1 to %d units wide and high", MaxBox)
	}
	if len(d.Strokes) == 0 {
		return errorf(CodeBadSignature, "the signature has no strokes: draw it")
	}
	if len(d.Strokes) > MaxStrokes {
		return errorf(CodeSignatureTooLarge, "the signature has more than %d strokes", MaxStrokes)
	}
	n := 0
	for i, st := range d.Strokes {
		if len(st) == 0 || len(st)%2 != 0 {
			return errorf(CodeBadSignature, "stroke %d is not a list of x, y pairs", i)
		}
		n += len(st) / 2
		for j := 0; j < len(st); j += 2 {
			if st[j] < 0 || st[j] > d.W || st[j+1] < 0 || st[j+1] > d.H {
				return errorf(CodeBadSignature, "stroke %d has a point outside the %d×%d box", i, d.W, d.H)
			}
		}
	}
	if n > MaxPoints {
		return errorf(CodeSignatureTooLarge, "the signature has %d points, at most %d are kept", n, MaxPoints)
	}
	return nil
}

// encode is the drawing as stored.
func (d Drawing) encode() string {
	b, _ := json.Marshal(d)
	return string(b)
}

// decodeDrawing reads a stored drawing.
func decodeDrawing(s string) (Drawing, error) {
	var d Drawing
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return d, fmt.Errorf("settlement: stored drawing: %w", err)
	}
	return d, nil
}

// pdfDrawing is d for the PDF writer.
func (d Drawing) pdfDrawing() pdf.Drawing {
	out := pdf.Drawing{W: float64(d.W), H: float64(d.H)}
	for _, st := range d.Strokes {
		var pts []pdf.Point
		for j := 0; j+1 < len(st); j += 2 {
			pts = append(pts, pdf.Point{X: float64(st[j]), Y: float64(st[j+1])})
		}
		out.Strokes = append(out.Strokes, pts)
	}
	return out
}
