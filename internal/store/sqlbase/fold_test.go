package sqlbase

import "testing"

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Niccolò":           "niccolo",
		"NICCOLÒ":           "niccolo",
		"Niccolo\u0300":     "niccolo", // decomposed input
		"Àlvaro Ñúñez Ægir": "alvaro nunez ægir",
		"王小明":               "王小明",
		"（２０２６）浙0328民调１２３号": "(2026)浙0328民调123号",
		"ΣΊΣΥΦΟΣ": "σισυφοσ",
		"":        "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFoldTargets(t *testing.T) {
	c := FoldTargets[0]
	if got, want := c.Unfolded(), `SELECT id, number, title FROM cases WHERE number_fold IS NULL OR title_fold IS NULL LIMIT 500`; got != want {
		t.Errorf("Unfolded = %q, want %q", got, want)
	}
	if got, want := c.Update(Dollar), `UPDATE cases SET number_fold = $1, title_fold = $2 WHERE id = $3`; got != want {
		t.Errorf("Update = %q, want %q", got, want)
	}
	if !c.Batch(500) || c.Batch(499) {
		t.Error("Batch: a full batch may leave more, a short one does not")
	}
}
