// Package mrz parses and validates the machine-readable zone (MRZ) of
// identity documents as laid down in ICAO Doc 9303 parts 3 to 6: TD3
// (passport data page, 2 lines of 44 characters), TD1 (ID card, 3 lines of
// 30) and TD2 (2 lines of 36). Visas (Doc 9303 part 7) are not accepted.
//
// Input is what a person types or confirms: lines separated by "\n" or
// "\r\n". Spaces and tabs around each line and blank lines are ignored;
// lowercase letters are taken as uppercase, since a real MRZ is uppercase
// and people type it in whatever case their keyboard gives. Any other
// character outside A-Z, 0-9 and the filler '<' (including a space inside
// a line) is refused with CodeFormat. Line and column numbers in errors
// count the non-blank lines after trimming.
//
// Dates are printed as YYMMDD, so the century is inferred from a reference
// date ("now", see ParseAt): a birth date is taken to be the latest date
// with those digits not after the reference date; an expiry date is placed
// in the 100-year window from 50 years before the reference year to 49
// years after it.
//
// Check digits are the 7-3-1 weighted sum of Doc 9303 part 3 (see
// CheckDigit). Like any weighted sum modulo 10 it cannot see a substitution
// between characters whose values differ by a multiple of 10, such as '0',
// '<', 'A', 'K' and 'U'; every other single-character change in a checked
// field is detected.
package mrz

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Format is the layout of the MRZ.
type Format string

// The formats of Doc 9303.
const (
	TD1 Format = "TD1" // ID card: 3 lines of 30
	TD2 Format = "TD2" // 2 lines of 36
	TD3 Format = "TD3" // passport: 2 lines of 44
)

// maxInput bounds the text Parse looks at; the largest MRZ with generous
// whitespace is far below it.
const maxInput = 1024

// Check is the outcome of one check digit.
type Check struct {
	Field    string // FieldDocumentNumber, ..., FieldComposite
	Printed  byte   // the character printed in the check-digit position
	Computed byte   // the check digit computed over the field, '0'-'9'
	Valid    bool
}

// MRZ is a parsed machine-readable zone. Text fields have trailing fillers
// removed; in names the fillers become spaces.
type MRZ struct {
	Format         Format
	DocumentCode   string // "P", "I", "ID", "AC", ...
	IssuingState   string // ICAO 3-letter code, fillers removed ("D" for Germany)
	Surname        string // primary identifier
	GivenNames     string // secondary identifier, names separated by spaces
	DocumentNumber string // in full, including a TD1/TD2 overflow
	Nationality    string
	// BirthDate is zero when the document prints the date as wholly or
	// partly unknown (fillers in BirthDateRaw).
	BirthDate    time.Time
	BirthDateRaw string // YYMMDD as printed
	// Sex is "M", "F" or "X" (unspecified; printed as '<' or 'X').
	Sex           string
	ExpiryDate    time.Time
	ExpiryDateRaw string
	// OptionalData is the personal number of a TD3, the optional data of
	// a TD2, or the optional data of the first TD1 line (after any
	// document number overflow).
	OptionalData string
	// OptionalData2 is the optional data of the second TD1 line.
	OptionalData2 string
	// Checks lists every check digit in the order they are printed.
	Checks []Check
	// Lines are the normalized MRZ lines.
	Lines []string
}

// Valid reports whether every check digit matches.
func (m *MRZ) Valid() bool {
	for _, c := range m.Checks {
		if !c.Valid {
			return false
		}
	}
	return true
}

// ExpiredAt reports whether the document is past its expiry date on the
// calendar date of t. The expiry date is the last day of validity.
func (m *MRZ) ExpiredAt(t time.Time) bool {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).After(m.ExpiryDate)
}

// Masked returns a copy fit to store where raw identity numbers may not
// be kept: the document number and optional data show only their last 3
// characters, the rest replaced by '*' (a value of 3 characters or fewer
// is masked entirely). The raw lines are dropped, and so are the printed
// and computed check digits, which together with the visible fields would
// narrow the masked characters down; only whether each check was valid is
// kept.
func (m *MRZ) Masked() *MRZ {
	c := *m
	c.DocumentNumber = mask(m.DocumentNumber)
	c.OptionalData = mask(m.OptionalData)
	c.OptionalData2 = mask(m.OptionalData2)
	c.Lines = nil
	c.Checks = make([]Check, len(m.Checks))
	for i, k := range m.Checks {
		c.Checks[i] = Check{Field: k.Field, Valid: k.Valid}
	}
	return &c
}

func mask(s string) string {
	if len(s) <= 3 {
		return strings.Repeat("*", len(s))
	}
	return strings.Repeat("*", len(s)-3) + s[len(s)-3:]
}

// CheckDigit computes the Doc 9303 check digit of s: each character's
// value (digits as themselves, A-Z as 10-35, '<' as 0) weighted 7, 3, 1, 7,
// 3, 1, ... and summed modulo 10. It returns the digit as a character,
// '0'-'9'. Any other character, lowercase included, is a CodeFormat error.
func CheckDigit(s string) (byte, error) {
	sum := 0
	for i := 0; i < len(s); i++ {
		v, ok := charValue(s[i])
		if !ok {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return 0, formatErr("", 0, i+1, "character %q is not A-Z, 0-9 or '<'", r)
		}
		sum += v * weights[i%3]
	}
	return byte('0' + sum%10), nil
}

var weights = [3]int{7, 3, 1}

func charValue(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10, true
	case c == '<':
		return 0, true
	}
	return 0, false
}

// checkDigit is CheckDigit for text already known to be in the alphabet.
func checkDigit(s string) byte {
	d, err := CheckDigit(s)
	if err != nil {
		panic("mrz: unvalidated text: " + err.Error())
	}
	return d
}

// Parse parses and validates an MRZ using the current time as the
// reference date for centuries; see ParseAt.
func Parse(text string) (*MRZ, error) {
	return ParseAt(text, time.Now())
}

// ParseAt parses and validates an MRZ, inferring the centuries of dates
// from the calendar date of now (see the package documentation).
//
// Errors are *Error. When only check digits fail, ParseAt returns the
// parsed MRZ together with a CodeCheckDigit error naming the first failing
// field; m.Checks then tells which others failed. Any other error comes
// with a nil MRZ.
func ParseAt(text string, now time.Time) (*MRZ, error) {
	lines, err := splitLines(text)
	if err != nil {
		return nil, err
	}
	p := parser{lines: lines}
	switch {
	case len(lines) == 3:
		if err := p.lengths(30); err != nil {
			return nil, err
		}
		p.m.Format = TD1
	case len(lines) == 2 && (len(lines[0]) == 44 || len(lines[0]) == 36):
		if err := p.lengths(len(lines[0])); err != nil {
			return nil, err
		}
		p.m.Format = TD3
		if len(lines[0]) == 36 {
			p.m.Format = TD2
		}
	case len(lines) == 2:
		return nil, formatErr("", 1, 0, "line is %d characters; want 44 (TD3) or 36 (TD2)", len(lines[0]))
	default:
		return nil, formatErr("", 0, 0, "%d lines; want 2 lines of 44 (TD3), 3 lines of 30 (TD1) or 2 lines of 36 (TD2)", len(lines))
	}
	p.m.Lines = lines
	switch p.m.Format {
	case TD3:
		p.td3()
	case TD2:
		p.td2()
	case TD1:
		p.td1()
	}
	if p.err != nil {
		return nil, p.err
	}
	m := &p.m
	birth, birthErr := birthDate(m.BirthDateRaw, now)
	expiry, expiryErr := expiryDate(m.ExpiryDateRaw, now)
	m.BirthDate, m.ExpiryDate = birth, expiry
	for _, c := range m.Checks {
		if !c.Valid {
			return m, &Error{Code: CodeCheckDigit, Field: c.Field,
				Detail: "printed " + printable(c.Printed) + ", computed " + string(c.Computed)}
		}
	}
	if birthErr != nil {
		birthErr.Field = FieldBirthDate
		return nil, birthErr
	}
	if expiryErr != nil {
		expiryErr.Field = FieldExpiryDate
		return nil, expiryErr
	}
	return m, nil
}

func printable(c byte) string {
	return "'" + string(c) + "'"
}

// splitLines trims and uppercases the lines of text, drops blank ones and
// refuses characters outside the MRZ alphabet.
func splitLines(text string) ([]string, error) {
	if len(text) > maxInput {
		return nil, formatErr("", 0, 0, "input is %d bytes; an MRZ is at most 3 lines of 44", len(text))
	}
	var lines []string
	for _, raw := range strings.Split(text, "\n") {
		l := strings.Trim(raw, " \t\r")
		if l == "" {
			continue
		}
		b := []byte(l)
		for i := 0; i < len(b); i++ {
			if b[i] >= 'a' && b[i] <= 'z' {
				b[i] -= 'a' - 'A'
			}
			if _, ok := charValue(b[i]); !ok {
				r, _ := utf8.DecodeRuneInString(l[i:])
				return nil, formatErr("", len(lines)+1, i+1, "character %q is not A-Z, 0-9 or '<'", r)
			}
		}
		lines = append(lines, string(b))
		if len(lines) > 3 {
			return nil, formatErr("", 0, 0, "more than 3 lines; want 2 lines of 44 (TD3), 3 lines of 30 (TD1) or 2 lines of 36 (TD2)")
		}
	}
	return lines, nil
}

type parser struct {
	lines []string
	m     MRZ
	err   *Error // first format error
}

func (p *parser) lengths(n int) *Error {
	for i, l := range p.lines {
		if len(l) != n {
			return formatErr("", i+1, 0, "line is %d characters; want %d like the others of %s", len(l), n, map[int]string{44: "TD3", 36: "TD2", 30: "TD1"}[n])
		}
	}
	return nil
}

// span is a field: line index and [start, end) columns, 0-based.
type span struct{ line, start, end int }

func (p *parser) text(s span) string { return p.lines[s.line][s.start:s.end] }

func (p *parser) fail(e *Error) {
	if p.err == nil {
		p.err = e
	}
}

// letters requires A-Z or '<' in s.
func (p *parser) letters(field string, s span) string {
	t := p.text(s)
	for i := 0; i < len(t); i++ {
		if t[i] != '<' && (t[i] < 'A' || t[i] > 'Z') {
			p.fail(formatErr(field, s.line+1, s.start+i+1, "%q where only letters or '<' may be", t[i]))
			break
		}
	}
	return t
}

func (p *parser) header(name span) {
	code := p.letters(FieldDocumentCode, span{0, 0, 2})
	switch {
	case code[0] == 'V':
		p.fail(formatErr(FieldDocumentCode, 1, 1, "visas (Doc 9303 part 7) are not supported"))
	case p.m.Format == TD3 && code[0] != 'P':
		p.fail(formatErr(FieldDocumentCode, 1, 1, "document code %q; a TD3 MRZ starts with P", code[0]))
	case p.m.Format != TD3 && code[0] != 'A' && code[0] != 'C' && code[0] != 'I':
		p.fail(formatErr(FieldDocumentCode, 1, 1, "document code %q; a %s MRZ starts with A, C or I", code[0], p.m.Format))
	}
	p.m.DocumentCode = strings.TrimRight(code, "<")
	p.m.IssuingState = p.country(FieldIssuingState, span{0, 2, 5})
	p.name(name)
}

func (p *parser) country(field string, s span) string {
	c := strings.TrimRight(p.letters(field, s), "<")
	if c == "" {
		p.fail(formatErr(field, s.line+1, s.start+1, "empty"))
	}
	return c
}

func (p *parser) name(s span) {
	t := p.letters(FieldName, s)
	if strings.Trim(t, "<") == "" {
		p.fail(formatErr(FieldName, s.line+1, s.start+1, "empty"))
		return
	}
	primary, secondary, _ := strings.Cut(t, "<<")
	p.m.Surname = strings.Join(strings.FieldsFunc(primary, isFiller), " ")
	p.m.GivenNames = strings.Join(strings.FieldsFunc(secondary, isFiller), " ")
}

func isFiller(r rune) bool { return r == '<' }

// person parses the fields TD1, TD2 and TD3 share, at the given columns of
// the given line: birth date and its check digit, sex, expiry date and its
// check digit.
func (p *parser) person(line, birth, sex, expiry int) {
	b := span{line, birth, birth + 6}
	p.m.BirthDateRaw = p.text(b)
	// Unknown parts are fillers, and once the year or month is unknown
	// so is what follows.
	unknown := false
	for i := 0; i < 6; i += 2 {
		pair := p.m.BirthDateRaw[i : i+2]
		if pair == "<<" {
			unknown = true
		} else if unknown || !isDigits(pair) {
			p.fail(formatErr(FieldBirthDate, line+1, birth+i+1, "%q; a birth date is YYMMDD, with '<<' for an unknown part and those after it", pair))
			break
		}
	}
	p.check(FieldBirthDate, b, span{line, birth + 6, birth + 7}, false)

	switch c := p.lines[line][sex]; c {
	case 'M', 'F', 'X':
		p.m.Sex = string(c)
	case '<':
		p.m.Sex = "X"
	default:
		p.fail(formatErr(FieldSex, line+1, sex+1, "%q; sex is M, F, X or '<'", c))
	}

	e := span{line, expiry, expiry + 6}
	p.m.ExpiryDateRaw = p.text(e)
	if !isDigits(p.m.ExpiryDateRaw) {
		p.fail(formatErr(FieldExpiryDate, line+1, expiry+1, "%q; an expiry date is YYMMDD", p.m.ExpiryDateRaw))
	}
	p.check(FieldExpiryDate, e, span{line, expiry + 6, expiry + 7}, false)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// check records the check digit at cd over the text of field. fillerIfEmpty
// allows '<' as the check digit of a field of fillers only.
func (p *parser) check(field string, s, cd span, fillerIfEmpty bool) {
	t := p.text(s)
	printed := p.text(cd)[0]
	p.addCheck(field, t, printed, fillerIfEmpty && strings.Trim(t, "<") == "")
}

func (p *parser) addCheck(field, data string, printed byte, fillerOK bool) {
	computed := checkDigit(data)
	p.m.Checks = append(p.m.Checks, Check{
		Field:    field,
		Printed:  printed,
		Computed: computed,
		Valid:    printed == computed || (fillerOK && printed == '<'),
	})
}

// documentNumber parses the 9-character document number at num and its
// check digit at num.end. In TD1 and TD2 a longer number continues at the
// start of the optional data field opt (Doc 9303 part 5 note j, part 6):
// the check digit position then holds '<', and the remaining characters
// are followed by the check digit of the whole number and a '<'. It
// returns the optional data that follows the number.
func (p *parser) documentNumber(num, opt span) string {
	first := p.text(num)
	printed := p.lines[num.line][num.end]
	optional := p.text(opt)
	number := first
	if printed == '<' && p.m.Format != TD3 {
		end := strings.IndexByte(optional, '<')
		if end < 0 {
			end = len(optional)
		}
		if end >= 2 {
			// The overflow: the rest of the number, then its check digit.
			number = first + optional[:end-1]
			printed = optional[end-1]
			optional = optional[min(end+1, len(optional)):]
		}
	}
	p.m.DocumentNumber = strings.TrimRight(number, "<")
	if p.m.DocumentNumber == "" {
		p.fail(formatErr(FieldDocumentNumber, num.line+1, num.start+1, "empty"))
	}
	p.addCheck(FieldDocumentNumber, number, printed, false)
	return strings.TrimRight(optional, "<")
}

// Doc 9303 part 4, TD3.
func (p *parser) td3() {
	p.header(span{0, 5, 44})
	l := p.lines[1]
	p.m.OptionalData = p.documentNumber(span{1, 0, 9}, span{1, 28, 42})
	p.m.Nationality = p.country(FieldNationality, span{1, 10, 13})
	p.person(1, 13, 20, 21)
	// The personal number's check digit may be '<' when it is all fillers.
	p.check(FieldOptionalData, span{1, 28, 42}, span{1, 42, 43}, true)
	p.addCheck(FieldComposite, l[0:10]+l[13:20]+l[21:43], l[43], false)
}

// Doc 9303 part 6, TD2.
func (p *parser) td2() {
	p.header(span{0, 5, 36})
	l := p.lines[1]
	p.m.OptionalData = p.documentNumber(span{1, 0, 9}, span{1, 28, 35})
	p.m.Nationality = p.country(FieldNationality, span{1, 10, 13})
	p.person(1, 13, 20, 21)
	p.addCheck(FieldComposite, l[0:10]+l[13:20]+l[21:35], l[35], false)
}

// Doc 9303 part 5, TD1.
func (p *parser) td1() {
	p.header(span{2, 0, 30})
	l1, l2 := p.lines[0], p.lines[1]
	p.m.OptionalData = p.documentNumber(span{0, 5, 14}, span{0, 15, 30})
	p.person(1, 0, 7, 8)
	p.m.Nationality = p.country(FieldNationality, span{1, 15, 18})
	p.m.OptionalData2 = strings.TrimRight(l2[18:29], "<")
	p.addCheck(FieldComposite, l1[5:30]+l2[0:7]+l2[8:15]+l2[18:29], l2[29], false)
}

// birthDate is the latest date with the digits of raw (YYMMDD) not after
// the calendar date of now; zero when raw holds fillers (unknown).
func birthDate(raw string, now time.Time) (time.Time, *Error) {
	if !isDigits(raw) {
		return time.Time{}, nil
	}
	yy, mm, dd := atoi2(raw[0:2]), atoi2(raw[2:4]), atoi2(raw[4:6])
	ny, nm, nd := now.Date()
	year := ny - ((ny-yy)%100+100)%100
	if year == ny && (mm > int(nm) || (mm == int(nm) && dd > nd)) {
		year -= 100
	}
	return calendarDate(raw, year, mm, dd)
}

// expiryDate places raw (YYMMDD) in the years from 50 before now to 49
// after.
func expiryDate(raw string, now time.Time) (time.Time, *Error) {
	if !isDigits(raw) {
		return time.Time{}, nil
	}
	yy, mm, dd := atoi2(raw[0:2]), atoi2(raw[2:4]), atoi2(raw[4:6])
	base := now.Year() - 50
	year := base + ((yy-base)%100+100)%100
	return calendarDate(raw, year, mm, dd)
}

func calendarDate(raw string, year, mm, dd int) (time.Time, *Error) {
	if mm < 1 || mm > 12 || dd < 1 || dd > time.Date(year, time.Month(mm)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return time.Time{}, &Error{Code: CodeDate, Detail: raw + " is not a date (taken as year " + strconv.Itoa(year) + ")"}
	}
	return time.Date(year, time.Month(mm), dd, 0, 0, 0, 0, time.UTC), nil
}

func atoi2(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }
