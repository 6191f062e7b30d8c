package mrz

import "fmt"

// Stable error codes, suitable as the code of an API error.
const (
	// CodeFormat: wrong number of lines, wrong line length, a character
	// outside the MRZ alphabet, or a field holding characters it may not
	// (a digit in a name, a letter in a date, an unknown document code).
	CodeFormat = "mrz_format"
	// CodeCheckDigit: a check digit does not match its field; Field says
	// which.
	CodeCheckDigit = "mrz_check_digit"
	// CodeDate: a date field whose digits are not a calendar date.
	CodeDate = "mrz_date"
)

// Field names used in errors and in Check.Field.
const (
	FieldDocumentCode   = "document_code"
	FieldIssuingState   = "issuing_state"
	FieldName           = "name"
	FieldDocumentNumber = "document_number"
	FieldNationality    = "nationality"
	FieldBirthDate      = "birth_date"
	FieldSex            = "sex"
	FieldExpiryDate     = "expiry_date"
	FieldOptionalData   = "optional_data"
	FieldComposite      = "composite"
)

// Error is an MRZ error with a stable Code and, where one applies, the
// Field at fault and the 1-based Line and Column of the offending
// character (0 when not tied to one character).
type Error struct {
	Code   string
	Field  string
	Line   int
	Column int
	Detail string
}

// Sentinels for errors.Is: any *Error with the same Code matches,
// whatever its field or position.
var (
	ErrFormat     = &Error{Code: CodeFormat}
	ErrCheckDigit = &Error{Code: CodeCheckDigit}
	ErrDate       = &Error{Code: CodeDate}
)

func (e *Error) Error() string {
	s := "mrz: " + e.Code
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	if e.Line > 0 {
		s += fmt.Sprintf(" at line %d", e.Line)
		if e.Column > 0 {
			s += fmt.Sprintf(" column %d", e.Column)
		}
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is reports whether target is an *Error with the same code; a target
// with a Field set must match the field too.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.Field == "" || t.Field == e.Field)
}

func formatErr(field string, line, col int, format string, args ...any) *Error {
	return &Error{Code: CodeFormat, Field: field, Line: line, Column: col, Detail: fmt.Sprintf(format, args...)}
}
