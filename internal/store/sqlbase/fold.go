package sqlbase

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold is the search form of a name, case number or title, which the
// stores keep beside it (the *_fold columns) and case searches match:
//
//   - compatibility decomposition (NFKD), so that full-width letters,
//     digits and brackets, as Chinese input methods type them, match
//     their ordinary forms: （２０２６） matches (2026);
//   - without the diacritical marks of Latin, Greek and Cyrillic letters
//     (U+0300 to U+036F), so that Niccolo finds Niccolò, as typed on a
//     keyboard without accents;
//   - lower case (Unicode, not only ASCII), so that NICCOLÒ finds Niccolò;
//   - recomposed (NFC).
//
// Chinese characters have no case and keep their form.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFKD.String(s) {
		if r >= 0x300 && r <= 0x36f {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return norm.NFC.String(b.String())
}

// FoldTarget is a table whose rows carry search forms: the columns
// Sources, folded into the columns Folds (same order), keyed by id.
type FoldTarget struct {
	Table   string
	Sources []string
	Folds   []string
}

// FoldTargets are the tables with search forms. Rows written before the
// forms existed (migration 4) have them NULL until Refold fills them.
var FoldTargets = []FoldTarget{
	{Table: "cases", Sources: []string{"number", "title"}, Folds: []string{"number_fold", "title_fold"}},
	{Table: "participants", Sources: []string{"display_name"}, Folds: []string{"name_fold"}},
}

// refoldBatch is how many rows a step of a refold reads.
const refoldBatch = 500

// Unfolded is the statement selecting id and the sources of at most a
// batch of rows of t whose search forms are missing.
func (t FoldTarget) Unfolded() string {
	missing := make([]string, len(t.Folds))
	for i, f := range t.Folds {
		missing[i] = f + " IS NULL"
	}
	return `SELECT id, ` + strings.Join(t.Sources, ", ") + ` FROM ` + t.Table +
		` WHERE ` + strings.Join(missing, " OR ") + ` LIMIT ` + strconv.Itoa(refoldBatch)
}

// Update is the statement setting the search forms of one row of t: the
// folds are the first placeholders, the id the last.
func (t FoldTarget) Update(ph Placeholder) string {
	sets := make([]string, len(t.Folds))
	for i, f := range t.Folds {
		sets[i] = f + " = " + string(ph) + strconv.Itoa(i+1)
	}
	return `UPDATE ` + t.Table + ` SET ` + strings.Join(sets, ", ") +
		` WHERE id = ` + string(ph) + strconv.Itoa(len(t.Folds)+1)
}

// Batch reports whether n rows read by Unfolded may leave more behind.
func (t FoldTarget) Batch(n int) bool { return n == refoldBatch }
