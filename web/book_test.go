package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestBookPage: /book/{token} serves the booking page, whose HTML obeys
// the CSP and whose script reads the token from the path; its strings
// exist in every language (checked with those of the join page).
func TestBookPage(t *testing.T) {
	res, body := get(t, "/book/abc123")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `src="/static/book.js"`) || strings.Contains(body, "abc123") {
		t.Fatalf("GET /book/abc123: %d, book.js %v", res.StatusCode, strings.Contains(body, "book.js"))
	}
	if res.Header.Get("Referrer-Policy") != "no-referrer" || res.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("security headers missing: %v", res.Header)
	}
	if res, _ := get(t, "/book/"); res.StatusCode == http.StatusOK {
		t.Errorf("GET /book/ without a token: 200")
	}
	html := strings.ToLower(body)
	for _, bad := range []string{"<style", " style=", " onclick=", "javascript:"} {
		if strings.Contains(html, bad) {
			t.Errorf("book.html contains %q, which the CSP blocks", bad)
		}
	}
	common := stringTables(t, "i18n.js")
	html, js := pageSources(t, "book.html", "book.js")
	if !strings.Contains(js, "export function hoursInZone") {
		t.Fatal("the modules book.js imports were not all read")
	}
	used := usedKeys(html, js, families(common["en"]))
	if len(used) < 20 {
		t.Fatalf("only %d keys found in the booking page", len(used))
	}
	for _, key := range keysOf(used) {
		if _, ok := common["en"][key]; !ok {
			t.Errorf("the booking page uses %q, which i18n.js lacks", key)
		}
	}
}
