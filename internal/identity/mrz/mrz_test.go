package mrz

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// ref is the reference date for centuries in these tests.
var ref = time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// pos is a character position: 0-based line and column.
type pos struct{ line, col int }

// rng is a run of characters on one line, [start, end).
type rng struct{ line, start, end int }

// checked is where a check digit of a layout sits and what it covers.
type checked struct {
	field  string
	covers []rng
	digit  pos
}

// Layouts of the check digits per Doc 9303, written out here apart from
// the parser so the two can disagree.
var (
	td3Checks = []checked{
		{FieldDocumentNumber, []rng{{1, 0, 9}}, pos{1, 9}},
		{FieldBirthDate, []rng{{1, 13, 19}}, pos{1, 19}},
		{FieldExpiryDate, []rng{{1, 21, 27}}, pos{1, 27}},
		{FieldOptionalData, []rng{{1, 28, 42}}, pos{1, 42}},
		{FieldComposite, []rng{{1, 0, 10}, {1, 13, 20}, {1, 21, 43}}, pos{1, 43}},
	}
	td2Checks = []checked{
		{FieldDocumentNumber, []rng{{1, 0, 9}}, pos{1, 9}},
		{FieldBirthDate, []rng{{1, 13, 19}}, pos{1, 19}},
		{FieldExpiryDate, []rng{{1, 21, 27}}, pos{1, 27}},
		{FieldComposite, []rng{{1, 0, 10}, {1, 13, 20}, {1, 21, 35}}, pos{1, 35}},
	}
	td1Checks = []checked{
		{FieldDocumentNumber, []rng{{0, 5, 14}}, pos{0, 14}},
		{FieldBirthDate, []rng{{1, 0, 6}}, pos{1, 6}},
		{FieldExpiryDate, []rng{{1, 8, 14}}, pos{1, 14}},
		{FieldComposite, []rng{{0, 5, 30}, {1, 0, 7}, {1, 8, 15}, {1, 18, 29}}, pos{1, 29}},
	}
)

// The specimen MRZs printed in ICAO Doc 9303 parts 4, 5 and 6.
var specimens = []struct {
	name   string
	lines  []string
	checks []checked
	want   MRZ
}{
	{
		name: "TD3 part 4 specimen",
		lines: []string{
			"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
			"L898902C36UTO7408122F1204159ZE184226B<<<<<10",
		},
		checks: td3Checks,
		want: MRZ{Format: TD3, DocumentCode: "P", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "L898902C3", Nationality: "UTO", BirthDate: date(1974, 8, 12), BirthDateRaw: "740812",
			Sex: "F", ExpiryDate: date(2012, 4, 15), ExpiryDateRaw: "120415", OptionalData: "ZE184226B"},
	},
	{
		name: "TD1 part 5 specimen",
		lines: []string{
			"I<UTOD231458907<<<<<<<<<<<<<<<",
			"7408122F1204159UTO<<<<<<<<<<<6",
			"ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
		},
		checks: td1Checks,
		want: MRZ{Format: TD1, DocumentCode: "I", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "D23145890", Nationality: "UTO", BirthDate: date(1974, 8, 12), BirthDateRaw: "740812",
			Sex: "F", ExpiryDate: date(2012, 4, 15), ExpiryDateRaw: "120415"},
	},
	{
		name: "TD2 part 6 specimen",
		lines: []string{
			"I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
			"D231458907UTO7408122F1204159<<<<<<<6",
		},
		checks: td2Checks,
		want: MRZ{Format: TD2, DocumentCode: "I", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "D23145890", Nationality: "UTO", BirthDate: date(1974, 8, 12), BirthDateRaw: "740812",
			Sex: "F", ExpiryDate: date(2012, 4, 15), ExpiryDateRaw: "120415"},
	},
}

func covered(lines []string, rs []rng) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(lines[r.line][r.start:r.end])
	}
	return b.String()
}

// sameFields compares the parsed fields, leaving out Checks and Lines.
func sameFields(t *testing.T, got *MRZ, want MRZ) {
	t.Helper()
	g := *got
	g.Checks, g.Lines = nil, nil
	if g.BirthDate != want.BirthDate || g.ExpiryDate != want.ExpiryDate {
		t.Errorf("dates %v, %v; want %v, %v", g.BirthDate, g.ExpiryDate, want.BirthDate, want.ExpiryDate)
	}
	g.BirthDate, g.ExpiryDate, want.BirthDate, want.ExpiryDate = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("parsed\n %+v\nwant\n %+v", g, want)
	}
}

func TestSpecimens(t *testing.T) {
	for _, s := range specimens {
		t.Run(s.name, func(t *testing.T) {
			// Every check digit computed over its field must be the one
			// printed on the specimen.
			for _, c := range s.checks {
				got, err := CheckDigit(covered(s.lines, c.covers))
				if err != nil {
					t.Fatalf("%s: %v", c.field, err)
				}
				if printed := s.lines[c.digit.line][c.digit.col]; got != printed {
					t.Errorf("%s: computed %q, specimen prints %q", c.field, got, printed)
				}
			}
			m, err := ParseAt(strings.Join(s.lines, "\n"), ref)
			if err != nil {
				t.Fatalf("ParseAt: %v", err)
			}
			sameFields(t, m, s.want)
			if len(m.Checks) != len(s.checks) {
				t.Fatalf("%d checks, want %d: %+v", len(m.Checks), len(s.checks), m.Checks)
			}
			for i, c := range s.checks {
				k := m.Checks[i]
				printed := s.lines[c.digit.line][c.digit.col]
				if k.Field != c.field || k.Printed != printed || k.Computed != printed || !k.Valid {
					t.Errorf("check %d = %+v; want field %s, printed and computed %q, valid", i, k, c.field, printed)
				}
			}
			if !m.Valid() {
				t.Error("Valid() = false")
			}
			if strings.Join(m.Lines, "\n") != strings.Join(s.lines, "\n") {
				t.Errorf("Lines = %q", m.Lines)
			}
		})
	}
}

// refCheckDigit is a second, plain implementation of the 7-3-1 check digit.
func refCheckDigit(s string) byte {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	sum := 0
	for i, r := range s {
		v := strings.IndexRune(alphabet, r) // '<' gives -1, counted as 0
		if v < 0 {
			v = 0
		}
		sum += v * []int{7, 3, 1}[i%3]
	}
	return "0123456789"[sum%10]
}

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"

func TestCheckDigit(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, r.IntN(50))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		got, err := CheckDigit(string(b))
		if err != nil {
			t.Fatalf("CheckDigit(%q): %v", b, err)
		}
		if want := refCheckDigit(string(b)); got != want {
			t.Fatalf("CheckDigit(%q) = %q; reference gives %q", b, got, want)
		}
	}
	for _, bad := range []string{"abc", "L898 902", "L898-902", "É", "\x00", "12345\n"} {
		_, err := CheckDigit(bad)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeFormat || e.Column < 1 {
			t.Errorf("CheckDigit(%q) error %v; want a %s error with a column", bad, err, CodeFormat)
		}
	}
}

// fieldAt names the check that must fail first when position p of a
// layout changes: the field's own check digit if it has one, else the
// composite.
func fieldAt(checks []checked, p pos) (string, bool) {
	for _, c := range checks {
		if c.digit == p {
			return c.field, true
		}
		if c.field == FieldComposite {
			continue
		}
		for _, r := range c.covers {
			if r.line == p.line && p.col >= r.start && p.col < r.end {
				return c.field, true
			}
		}
	}
	for _, r := range checks[len(checks)-1].covers {
		if r.line == p.line && p.col >= r.start && p.col < r.end {
			return FieldComposite, true
		}
	}
	return "", false
}

func value(c byte) int {
	if c == '<' {
		return 0
	}
	return strings.IndexByte(alphabet, c)
}

// TestCorruptionDetected changes every character of every checked field
// of the specimens to every other character. A change whose values differ
// by other than a multiple of 10 must be refused; a digit that stays a
// digit must be refused as a check-digit failure of the right field.
func TestCorruptionDetected(t *testing.T) {
	for _, s := range specimens {
		t.Run(s.name, func(t *testing.T) {
			tried := 0
			for li, line := range s.lines {
				for col := range len(line) {
					field, ok := fieldAt(s.checks, pos{li, col})
					if !ok {
						continue
					}
					for i := 0; i < len(alphabet); i++ {
						c := alphabet[i]
						orig := line[col]
						if c == orig || (value(c)-value(orig))%10 == 0 {
							continue
						}
						lines := append([]string(nil), s.lines...)
						lines[li] = line[:col] + string(c) + line[col+1:]
						m, err := ParseAt(strings.Join(lines, "\n"), ref)
						tried++
						if err == nil {
							t.Fatalf("line %d col %d %q->%q: accepted\n%s", li+1, col+1, orig, c, strings.Join(lines, "\n"))
						}
						var e *Error
						if !errors.As(err, &e) {
							t.Fatalf("error %T %v is not *Error", err, err)
						}
						digitForDigit := orig >= '0' && orig <= '9' && c >= '0' && c <= '9'
						if digitForDigit && (e.Code != CodeCheckDigit || e.Field != field) {
							t.Errorf("line %d col %d %q->%q: %v; want %s on %s", li+1, col+1, orig, c, err, CodeCheckDigit, field)
						}
						if e.Code == CodeCheckDigit && (m == nil || m.Valid()) {
							t.Errorf("line %d col %d: check digit error without an MRZ showing the failed check", li+1, col+1)
						}
					}
				}
			}
			if tried < 100 {
				t.Fatalf("only %d corruptions tried", tried)
			}
		})
	}
}

// TestBlindSpot pins down the documented limit of the 7-3-1 sum: '0' and
// 'A' weigh the same modulo 10, so the checks cannot tell them apart.
func TestBlindSpot(t *testing.T) {
	x, _ := CheckDigit("D23145890")
	y, _ := CheckDigit("D2314589A")
	if x != y {
		t.Fatalf("'0' and 'A' give different check digits %q, %q: the package doc is wrong", x, y)
	}
}

func TestLayoutRefused(t *testing.T) {
	td3 := specimens[0].lines
	td1 := specimens[1].lines
	td2 := specimens[2].lines
	cases := []struct {
		name  string
		text  string
		field string
		line  int
	}{
		{"empty", "", "", 0},
		{"one line", td3[0], "", 0},
		{"four lines", strings.Join(append(td1, td1[2]), "\n"), "", 0},
		{"TD3 line 2 short", td3[0] + "\n" + td3[1][:43], "", 2},
		{"TD3 line 2 long", td3[0] + "\n" + td3[1] + "<", "", 2},
		{"TD3 line 1 short", td3[0][:43] + "\n" + td3[1], "", 1},
		{"TD3 then TD2", td3[0] + "\n" + td2[1], "", 2},
		{"TD1 line 3 short", td1[0] + "\n" + td1[1] + "\n" + td1[2][:29], "", 3},
		{"TD1 as one line", strings.Join(td1, ""), "", 0},
		{"2 lines of 30", td1[0] + "\n" + td1[1], "", 1},
		{"space inside", td3[0] + "\n" + td3[1][:10] + " " + td3[1][11:], "", 2},
		{"dash", td3[0][:10] + "-" + td3[0][11:] + "\n" + td3[1], "", 1},
		{"non-ASCII", "P<UTOÉRIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<\n" + td3[1], "", 1},
		{"digit in name", td3[0][:7] + "1" + td3[0][8:] + "\n" + td3[1], FieldName, 1},
		{"letter in birth date", td3[0] + "\n" + td3[1][:15] + "O" + td3[1][16:], FieldBirthDate, 2},
		{"letter in expiry date", td1[0] + "\n" + td1[1][:9] + "I" + td1[1][10:] + "\n" + td1[2], FieldExpiryDate, 2},
		{"bad sex", td3[0] + "\n" + td3[1][:20] + "Q" + td3[1][21:], FieldSex, 2},
		{"digit in nationality", td2[0] + "\n" + td2[1][:11] + "7" + td2[1][12:], FieldNationality, 2},
		{"digit in issuing state", td2[0][:2] + "U7O" + td2[0][5:] + "\n" + td2[1], FieldIssuingState, 1},
		{"TD3 not a passport", "I" + td3[0][1:] + "\n" + td3[1], FieldDocumentCode, 1},
		{"TD1 passport code", "P" + td1[0][1:] + "\n" + td1[1] + "\n" + td1[2], FieldDocumentCode, 1},
		{"visa", "V" + td2[0][1:] + "\n" + td2[1], FieldDocumentCode, 1},
		{"empty name", td1[0] + "\n" + td1[1] + "\n" + strings.Repeat("<", 30), FieldName, 3},
		{"too long", strings.Repeat(" ", 2000) + td3[0] + "\n" + td3[1], "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ParseAt(c.text, ref)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v; want %s", err, CodeFormat)
			}
			if m != nil {
				t.Error("an MRZ came back with a format error")
			}
			var e *Error
			errors.As(err, &e)
			if e.Field != c.field || e.Line != c.line {
				t.Errorf("field %q line %d; want %q line %d (%v)", e.Field, e.Line, c.field, c.line, err)
			}
		})
	}
}

func TestTyping(t *testing.T) {
	for _, s := range specimens {
		want, err := ParseAt(strings.Join(s.lines, "\n"), ref)
		if err != nil {
			t.Fatal(err)
		}
		typed := "\r\n  " + strings.ToLower(s.lines[0]) + " \t\r\n\r\n"
		for _, l := range s.lines[1:] {
			typed += "  " + strings.ToLower(l) + "  \r\n"
		}
		got, err := ParseAt(typed, ref)
		if err != nil {
			t.Fatalf("%s typed in lowercase with CRLF: %v", s.name, err)
		}
		sameFields(t, got, s.want)
		if strings.Join(got.Lines, "\n") != strings.Join(want.Lines, "\n") {
			t.Errorf("%s: lines %q; want %q", s.name, got.Lines, want.Lines)
		}
	}
}

func TestLongDocumentNumber(t *testing.T) {
	// Doc 9303 part 11 appendix D.2: a 12-character number overflowing into
	// the optional data of a TD1, and the same data in a TD2.
	cases := []struct {
		name   string
		lines  []string
		format Format
		// digit is where the check digit of the whole number is printed.
		digit pos
	}{
		{"TD1", []string{
			"I<UTOD23145890<7349<<<<<<<<<<<",
			"3407127M9507122UTO<<<<<<<<<<<2",
			"STEVENSON<<PETER<JOHN<<<<<<<<<",
		}, TD1, pos{0, 18}},
		{"TD2", []string{
			"I<UTOSTEVENSON<<PETER<JOHN<<<<<<<<<<",
			"D23145890<UTO3407127M95071227349<<<8",
		}, TD2, pos{1, 31}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			printed := c.lines[c.digit.line][c.digit.col]
			if d, _ := CheckDigit("D23145890734"); d != printed {
				t.Fatalf("check digit of D23145890734 computed %q; the example prints %q", d, printed)
			}
			m, err := ParseAt(strings.Join(c.lines, "\n"), ref)
			if err != nil {
				t.Fatal(err)
			}
			if m.Format != c.format || m.DocumentNumber != "D23145890734" || m.OptionalData != "" ||
				m.Surname != "STEVENSON" || m.GivenNames != "PETER JOHN" || m.Sex != "M" ||
				m.BirthDate != date(1934, 7, 12) || m.ExpiryDate != date(1995, 7, 12) {
				t.Errorf("parsed %+v", m)
			}
			if k := m.Checks[0]; k.Field != FieldDocumentNumber || k.Printed != printed || !k.Valid {
				t.Errorf("document number check %+v", k)
			}

			// A wrong digit in the overflow is a document number error.
			bad := append([]string(nil), c.lines...)
			l := bad[c.digit.line]
			bad[c.digit.line] = l[:c.digit.col-1] + "5" + l[c.digit.col:]
			_, err = ParseAt(strings.Join(bad, "\n"), ref)
			if !errors.Is(err, &Error{Code: CodeCheckDigit, Field: FieldDocumentNumber}) {
				t.Errorf("overflow digit changed: %v; want %s on %s", err, CodeCheckDigit, FieldDocumentNumber)
			}
		})
	}

	// A filler for the check digit with nothing following is no overflow.
	td1 := specimens[1].lines
	text := td1[0][:14] + "<" + td1[0][15:] + "\n" + td1[1] + "\n" + td1[2]
	if _, err := ParseAt(text, ref); !errors.Is(err, &Error{Code: CodeCheckDigit, Field: FieldDocumentNumber}) {
		t.Errorf("filler check digit, no overflow: %v", err)
	}
	// A TD3 has no overflow: a filler check digit is simply wrong.
	td3 := specimens[0].lines
	text = td3[0] + "\n" + td3[1][:9] + "<" + td3[1][10:]
	if _, err := ParseAt(text, ref); !errors.Is(err, &Error{Code: CodeCheckDigit, Field: FieldDocumentNumber}) {
		t.Errorf("TD3 filler check digit: %v", err)
	}
}

// td3With builds a TD3 second line from its fields, with check digits from
// the reference implementation; optDigit overrides the personal number's.
func td3With(number, birth, sex, expiry, personal string, optDigit byte) string {
	number = pad(number, 9)
	personal = pad(personal, 14)
	if optDigit == 0 {
		optDigit = refCheckDigit(personal)
	}
	l := number + string(refCheckDigit(number)) + "UTO" + birth + string(refCheckDigit(birth)) + sex +
		expiry + string(refCheckDigit(expiry)) + personal + string(optDigit)
	return l + string(refCheckDigit(l[0:10]+l[13:20]+l[21:43]))
}

func pad(s string, n int) string { return s + strings.Repeat("<", n-len(s)) }

func TestPersonalNumberFiller(t *testing.T) {
	name := specimens[0].lines[0]
	cases := []struct {
		name     string
		personal string
		digit    byte
		ok       bool
	}{
		{"empty, digit '<'", "", '<', true},
		{"empty, digit '0'", "", 0, true},
		{"set, digit '<'", "ZE184226B", '<', false},
		{"set, right digit", "ZE184226B", 0, true},
	}
	for _, c := range cases {
		line := td3With("L898902C3", "740812", "F", "120415", c.personal, c.digit)
		m, err := ParseAt(name+"\n"+line, ref)
		if c.ok && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if !c.ok && !errors.Is(err, &Error{Code: CodeCheckDigit, Field: FieldOptionalData}) {
			t.Errorf("%s: %v; want %s on %s", c.name, err, CodeCheckDigit, FieldOptionalData)
		}
		if c.ok && m.OptionalData != c.personal {
			t.Errorf("%s: optional data %q", c.name, m.OptionalData)
		}
	}
}

func TestDates(t *testing.T) {
	name := specimens[0].lines[0]
	cases := []struct {
		birth, expiry string
		now           time.Time
		wantBirth     time.Time
		wantExpiry    time.Time
	}{
		{"261127", "361127", ref, date(2026, 11, 27), date(2036, 11, 27)}, // born today
		{"261128", "261126", ref, date(1926, 11, 28), date(2026, 11, 26)}, // tomorrow is a century ago
		{"000229", "751231", ref, date(2000, 2, 29), date(2075, 12, 31)},  // 49 years ahead
		{"991231", "760101", ref, date(1999, 12, 31), date(1976, 1, 1)},   // 50 years back
		{"740812", "120415", date(1999, 1, 1), date(1974, 8, 12), date(2012, 4, 15)},
		{"740812", "490101", date(1999, 1, 1), date(1974, 8, 12), date(1949, 1, 1)},
		{"74<<<<", "300101", ref, time.Time{}, date(2030, 1, 1)}, // birth month and day unknown
		{"<<<<<<", "300101", ref, time.Time{}, date(2030, 1, 1)},
	}
	for _, c := range cases {
		line := td3With("L898902C3", c.birth, "M", c.expiry, "", 0)
		m, err := ParseAt(name+"\n"+line, c.now)
		if err != nil {
			t.Errorf("%s/%s at %s: %v", c.birth, c.expiry, c.now.Format(time.DateOnly), err)
			continue
		}
		if !m.BirthDate.Equal(c.wantBirth) || !m.ExpiryDate.Equal(c.wantExpiry) {
			t.Errorf("%s/%s at %s: %v, %v; want %v, %v", c.birth, c.expiry, c.now.Format(time.DateOnly),
				m.BirthDate, m.ExpiryDate, c.wantBirth, c.wantExpiry)
		}
		if m.BirthDateRaw != c.birth || m.ExpiryDateRaw != c.expiry {
			t.Errorf("raw dates %q %q", m.BirthDateRaw, m.ExpiryDateRaw)
		}
	}
	if m, _ := ParseAt(name+"\n"+td3With("L898902C3", "740812", "M", "261126", "", 0), ref); !m.ExpiredAt(ref) {
		t.Error("expired yesterday, ExpiredAt says no")
	}
	if m, _ := ParseAt(name+"\n"+td3With("L898902C3", "740812", "M", "261127", "", 0), ref); m.ExpiredAt(ref) {
		t.Error("expires today, ExpiredAt says expired")
	}

	bad := []struct {
		birth, expiry, field string
	}{
		{"741312", "120415", FieldBirthDate},
		{"740231", "120415", FieldBirthDate},
		{"740800", "120415", FieldBirthDate},
		{"000229", "120415", ""}, // fine in 2000
		{"740812", "770229", FieldExpiryDate},
		{"740812", "120431", FieldExpiryDate},
		{"7408<<", "120415", ""}, // unknown day
		{"74<<12", "120415", FieldBirthDate},
		{"740812", "12<<<<", FieldExpiryDate},
	}
	for _, c := range bad {
		m, err := ParseAt(name+"\n"+td3With("L898902C3", c.birth, "F", c.expiry, "", 0), ref)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s/%s: %v", c.birth, c.expiry, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || (e.Code != CodeDate && e.Code != CodeFormat) || e.Field != c.field || m != nil {
			t.Errorf("%s/%s: %v; want a date or format error on %s", c.birth, c.expiry, err, c.field)
		}
	}
	// 1900 was no leap year: a birth date of 000229 read before 2000.
	_, err := ParseAt(name+"\n"+td3With("L898902C3", "000229", "F", "120415", "", 0), date(1999, 6, 1))
	if !errors.Is(err, &Error{Code: CodeDate, Field: FieldBirthDate}) {
		t.Errorf("1900-02-29: %v", err)
	}
}

func TestMasked(t *testing.T) {
	m, err := ParseAt(strings.Join(specimens[0].lines, "\n"), ref)
	if err != nil {
		t.Fatal(err)
	}
	k := m.Masked()
	if k.DocumentNumber != "******2C3" || k.OptionalData != "******26B" {
		t.Errorf("masked %q %q", k.DocumentNumber, k.OptionalData)
	}
	if k.Lines != nil {
		t.Error("raw lines kept")
	}
	for _, c := range k.Checks {
		if c.Printed != 0 || c.Computed != 0 || !c.Valid {
			t.Errorf("masked check %+v", c)
		}
	}
	if m.DocumentNumber != "L898902C3" || m.Lines == nil || m.Checks[0].Printed == 0 {
		t.Error("Masked changed the original")
	}
	if k.Surname != m.Surname || k.BirthDate != m.BirthDate {
		t.Error("Masked changed unmasked fields")
	}
	for in, want := range map[string]string{"": "", "AB": "**", "ABC": "***", "ABCD": "*BCD"} {
		if got := mask(in); got != want {
			t.Errorf("mask(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestErrorCodes(t *testing.T) {
	td3 := specimens[0].lines
	text := td3[0] + "\n" + td3[1][:19] + "3" + td3[1][20:]
	m, err := ParseAt(text, ref)
	var e *Error
	if !errors.As(err, &e) || e.Code != "mrz_check_digit" || e.Field != "birth_date" {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(err, ErrCheckDigit) || errors.Is(err, ErrFormat) || errors.Is(err, &Error{Code: CodeCheckDigit, Field: FieldExpiryDate}) {
		t.Error("errors.Is does not follow the code and field")
	}
	if m == nil {
		t.Fatal("no MRZ with a check digit error")
	}
	var failed []string
	for _, c := range m.Checks {
		if !c.Valid {
			failed = append(failed, c.Field)
		}
	}
	// The composite covers the birth date check digit too.
	if strings.Join(failed, ",") != "birth_date,composite" {
		t.Errorf("failed checks %v", failed)
	}
	if !strings.Contains(err.Error(), "birth_date") {
		t.Errorf("message %q does not name the field", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range specimens {
		f.Add(strings.Join(s.lines, "\n"))
	}
	f.Add("I<UTOD23145890<7349<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<")
	f.Add("I<UTOD23145890<<<<<<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<")
	f.Add("I<UTOD23145890<7\n\n")
	f.Fuzz(func(t *testing.T, text string) {
		m, err := ParseAt(text, ref)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if (m != nil) != (e.Code == CodeCheckDigit) {
				t.Fatalf("MRZ %v with error %v", m != nil, err)
			}
			if m == nil {
				return
			}
		}
		if err == nil && !m.Valid() {
			t.Fatal("accepted with a failed check")
		}
		if m.DocumentNumber == "" || m.Format == "" {
			t.Fatalf("parsed without document number or format: %+v", m)
		}
		_ = m.Masked()
	})
}
