package settlement

import (
	"fmt"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/pdf"
)

// labels of the PDF, by language; each also says it in English when the
// agreement is not in English, for a reader abroad.
var labels = map[string]map[string]string{
	"zh": {"title": "人民调解协议书", "case": "案号", "subject": "案由", "session": "在线调解会话", "version": "文本版本",
		"signatures": "签名", "typed": "签署姓名", "signed": "签署时间", "confirmed": "口头确认时间", "hash": "协议文本 SHA-256",
		"name_confirmed": "姓名与登记姓名不同，经调解员确认", "party": "当事人", "mediator": "调解员", "footer": "会话"},
	"en": {"title": "Mediation Settlement Agreement", "case": "Case number", "subject": "Subject", "session": "Online session", "version": "Text version",
		"signatures": "Signatures", "typed": "Typed name", "signed": "Signed", "confirmed": "Confirmed aloud", "hash": "Agreement text SHA-256",
		"name_confirmed": "the typed name differs from the name on record; confirmed by the mediator", "party": "Party", "mediator": "Mediator", "footer": "Session"},
	"it": {"title": "Accordo di conciliazione", "case": "Numero della pratica", "subject": "Oggetto", "session": "Sessione online", "version": "Versione del testo",
		"signatures": "Firme", "typed": "Nome digitato", "signed": "Firmato", "confirmed": "Confermato a voce", "hash": "SHA-256 del testo dell'accordo",
		"name_confirmed": "il nome digitato differisce da quello registrato; confermato dal mediatore", "party": "Parte", "mediator": "Mediatore", "footer": "Sessione"},
}

// label is the label k in lang, with the English after it for another
// language.
func label(lang, k string) string {
	l, ok := labels[lang]
	if !ok {
		l, lang = labels["en"], "en"
	}
	if lang == "en" {
		return l[k]
	}
	return l[k] + " / " + labels["en"][k]
}

// render lays out the agreement: title, references, text, each signature
// (typed name, drawing, times in UTC and in the session's zone, the spoken
// confirmation), the text's SHA-256, and the session in every footer.
func render(st *cases.Settlement, v *cases.SettlementVersion, signers []Signer, c *cases.Case, sess *cases.Session, now time.Time) (*pdf.Document, error) {
	lang := st.Language
	loc := zone(sess.TimeZone)
	when := func(t time.Time) string {
		return t.UTC().Format("2006-01-02 15:04:05") + " UTC · " + t.In(loc).Format("2006-01-02 15:04:05") + " " + loc.String()
	}
	d := &pdf.Document{Title: label(lang, "title") + " " + c.Number, Author: c.Number, Subject: c.Title,
		Footer: label(lang, "footer") + " " + sess.ID + " · " + c.Number, Created: now}
	d.Heading(label(lang, "title"))
	d.Small(label(lang, "case") + ": " + c.Number)
	d.Small(label(lang, "subject") + ": " + c.Title)
	d.Small(label(lang, "session") + ": " + sess.ID)
	d.Small(label(lang, "version") + fmt.Sprintf(": %d", v.Version))
	d.Paragraph("")
	d.Paragraph(v.Text)
	d.Subheading(label(lang, "signatures"))
	for _, g := range signers {
		role := label(lang, "party")
		if g.Role != string(cases.RoleParty) {
			role = label(lang, "mediator")
		}
		d.Subheading(role + ": " + g.Name)
		d.Small(label(lang, "typed") + ": " + g.TypedName)
		if !g.NameMatches {
			d.Small("(" + label(lang, "name_confirmed") + ")")
		}
		dr, err := decodeDrawing(g.drawing)
		if err != nil {
			return nil, err
		}
		d.Draw(dr.pdfDrawing(), 220, 80)
		if g.SignedAt != nil {
			d.Small(label(lang, "signed") + ": " + when(*g.SignedAt))
		}
		if g.ConfirmedAt != nil && g.Role == string(cases.RoleParty) { // the mediator's is their signature
			d.Small(label(lang, "confirmed") + ": " + when(*g.ConfirmedAt))
		}
	}
	d.Paragraph("")
	d.Small(label(lang, "hash") + ": " + fmt.Sprintf("%x", v.SHA256))
	return d, nil
}
