package settlement

import (
	"strings"
)

// Fields are what a template is filled with, from the case and the
// session; Terms are the mediator's own.
type Fields struct {
	CaseNumber string
	CaseTitle  string
	Parties    []string // names of the parties
	Mediator   string
	Date       string // the session's date in its zone, YYYY-MM-DD
	Place      string // the online session's reference
	Terms      string
}

// Templates are the built-in templates: name, then language.
var templates = map[string]map[string]string{
	"general": {
		"zh": `人民调解协议书

案号：{case_number}
案由：{case_title}
当事人：{parties}
调解员：{mediator}
日期：{date}
地点：在线视频调解（{place}）

经调解员主持调解，当事人在平等协商、自愿互谅的基础上，就上述纠纷达成如下协议：

{terms}

当事人确认：本协议系自愿达成，内容真实，不违反法律、法规的强制性规定，不损害国家利益、社会公共利益和他人合法权益。各方应当自觉、全面履行本协议。本协议经各方当事人签名、调解员签名后生效，视为各方当事人当面签署。`,
		"en": `MEDIATION SETTLEMENT AGREEMENT

Case number: {case_number}
Subject: {case_title}
Parties: {parties}
Mediator: {mediator}
Date: {date}
Place: online video mediation ({place})

With the assistance of the mediator, the parties, negotiating freely and on equal terms, have settled the dispute above as follows:

{terms}

The parties confirm that they enter into this agreement of their own free will, that its content is true, and that it does not infringe mandatory rules of law or the rights of others. Each party shall perform it fully and in good faith. The agreement takes effect when signed by every party and by the mediator, and is as binding as if signed in their presence.`,
		"it": `ACCORDO DI CONCILIAZIONE

Numero della pratica: {case_number}
Oggetto: {case_title}
Parti: {parties}
Mediatore: {mediator}
Data: {date}
Luogo: mediazione in videoconferenza ({place})

Con l'assistenza del mediatore, le parti, liberamente e su un piano di parità, hanno composto la controversia sopra indicata come segue:

{terms}

Le parti dichiarano di concludere il presente accordo liberamente, che il suo contenuto è veritiero e che esso non è contrario a norme imperative né lede diritti di terzi. Ciascuna parte si impegna ad adempierlo integralmente e in buona fede. L'accordo ha effetto con la sottoscrizione di tutte le parti e del mediatore, come se fosse sottoscritto in loro presenza.`,
	},
}

// Languages of the templates and of the PDF's labels.
var Languages = []string{"zh", "en", "it"}

// TemplateNames are the built-in templates.
func TemplateNames() []string { return []string{"general"} }

// Fill fills template name in language lang. An unknown template or
// language is refused.
func Fill(name, lang string, f Fields) (string, error) {
	byLang, ok := templates[name]
	if !ok {
		return "", errorf(CodeUnknownTemplate, "there is no template %q", name)
	}
	t, ok := byLang[lang]
	if !ok {
		return "", errorf(CodeUnknownTemplate, "template %q has no language %q (zh, en, it)", name, lang)
	}
	sep := "；"
	if lang != "zh" {
		sep = "; "
	}
	terms := f.Terms
	if strings.TrimSpace(terms) == "" {
		terms = map[string]string{"zh": "一、\n二、", "en": "1. \n2. ", "it": "1. \n2. "}[lang]
	}
	r := strings.NewReplacer("{case_number}", f.CaseNumber, "{case_title}", f.CaseTitle,
		"{parties}", strings.Join(f.Parties, sep), "{mediator}", f.Mediator, "{date}", f.Date,
		"{place}", f.Place, "{terms}", terms)
	return Canonical(r.Replace(t)), nil
}
