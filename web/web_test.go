package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

// get sends a GET for target to a fresh Handler and returns the response
// and its body.
func get(t *testing.T, target string, header ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		path        string
		contentType string
		contains    string
	}{
		{"/", "text/html; charset=utf-8", "Kuayang"},
		{"/join/abc123", "text/html; charset=utf-8", `src="/static/app.js"`},
		{"/join/anything-at-all_9", "text/html; charset=utf-8", `data-testid="join"`},
		{"/static/app.js", "text/javascript; charset=utf-8", "import"},
		{"/static/protocol.js", "text/javascript; charset=utf-8", "export class Client"},
		{"/static/i18n.js", "text/javascript; charset=utf-8", "zh-CN"},
		{"/static/style.css", "text/css; charset=utf-8", ".grid"},
		{"/static/join.html", "text/html; charset=utf-8", "<video"},
		{"/static/index.html", "text/html; charset=utf-8", "Kuayang"},
		{"/staff/", "text/html; charset=utf-8", `src="/static/staff.js"`},
		{"/staff/login", "text/html; charset=utf-8", `data-testid="logout"`},
		{"/staff/cases/new", "text/html; charset=utf-8", `src="/static/staff.js"`},
		{"/staff/cases/0f8e2c1a-5b7d-4c3e-9a21-8d6f4b2e7c90", "text/html; charset=utf-8", `src="/static/staff.js"`},
		{"/static/staff.js", "text/javascript; charset=utf-8", "from './api.js'"},
		{"/static/api.js", "text/javascript; charset=utf-8", "export class Api"},
		{"/static/tz.js", "text/javascript; charset=utf-8", "export function wallTimeToInstant"},
		{"/static/staff-strings.js", "text/javascript; charset=utf-8", "STAFF_STRINGS"},
		{"/static/peers.js", "text/javascript; charset=utf-8", "export class Peers"},
		{"/static/prejoin.js", "text/javascript; charset=utf-8", "export async function joinCall"},
		{"/static/call.js", "text/javascript; charset=utf-8", "export function renderControls"},
		{"/static/staff-case.js", "text/javascript; charset=utf-8", "export async function showCase"},
		{"/static/staff-review.js", "text/javascript; charset=utf-8", "export async function showReview"},
		{"/static/player.js", "text/javascript; charset=utf-8", "export class SyncPlayer"},
		{"/static/playclock.js", "text/javascript; charset=utf-8", "export function locate"},
		{"/static/timeline.js", "text/javascript; charset=utf-8", "export function drawTimeline"},
		{"/staff/sessions/0f8e2c1a-5b7d-4c3e-9a21-8d6f4b2e7c90/review", "text/html; charset=utf-8", `src="/static/staff.js"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, body := get(t, tt.path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			if got := res.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if !strings.Contains(body, tt.contains) {
				t.Errorf("body does not contain %q", tt.contains)
			}
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control %q, want no-cache", got)
			}
			if res.Header.Get("ETag") == "" {
				t.Error("no ETag")
			}
			checkSecurityHeaders(t, res.Header)
		})
	}
}

func checkSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Permissions-Policy":     "camera=(self), microphone=(self), display-capture=(self)",
	}
	for name, value := range want {
		if got := h.Get(name); got != value {
			t.Errorf("%s %q, want %q", name, got, value)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, directive := range []string{
		"default-src 'self'",
		"media-src 'self' blob: mediastream:",
		"connect-src 'self' ws: wss:",
		"img-src 'self' data: blob:",
		"style-src 'self'",
		"script-src 'self'",
		"object-src 'none'",
		"base-uri 'none'",
		"frame-ancestors 'none'",
	} {
		if !strings.Contains(csp, directive) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, directive)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("Content-Security-Policy allows unsafe sources: %q", csp)
	}
}

func TestJoinPageDoesNotEmbedToken(t *testing.T) {
	const token = "secret-invite-token-4f9a"
	_, body := get(t, "/join/"+token)
	if strings.Contains(body, token) {
		t.Error("join.html contains the invite token; it must be read by the script from location.pathname")
	}
	_, plain := get(t, "/join/other")
	if body != plain {
		t.Error("join page differs between tokens")
	}
}

func TestNotFound(t *testing.T) {
	for _, path := range []string{
		"/static/nope.js",
		"/static/",
		"/static",
		"/join/",
		"/join/a/b",
		"/nope",
		"/index.html",
		"/staffx",
		"/staff.html",
	} {
		t.Run(path, func(t *testing.T) {
			res, _ := get(t, path)
			if res.StatusCode == http.StatusOK {
				t.Errorf("status 200, want an error")
			}
		})
	}
	res, _ := get(t, "/static/nope.js")
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown static file: status %d, want 404", res.StatusCode)
	}
}

func TestPathTraversal(t *testing.T) {
	for _, path := range []string{
		"/static/../web.go",
		"/static/..%2fweb.go",
		"/static/%2e%2e/web.go",
		"/static/%2e%2e%2fweb_test.go",
		"/static/./../../go.mod",
		"/static//etc/passwd",
		"/static/..\\web.go",
	} {
		t.Run(path, func(t *testing.T) {
			res, body := get(t, path)
			if res.StatusCode == http.StatusOK {
				t.Errorf("status 200 for %s", path)
			}
			if strings.Contains(body, "package web") || strings.Contains(body, "module ") || strings.Contains(body, "root:") {
				t.Errorf("%s leaked a file outside static", path)
			}
		})
	}
}

// TestStaffDeepLinks checks that every path under /staff/ answers the same
// document, so that a reload or a bookmark of /staff/cases/<id> works, and
// that /staff redirects there.
func TestStaffDeepLinks(t *testing.T) {
	_, want := get(t, "/staff/")
	if !strings.Contains(want, `<main id="main"`) {
		t.Fatal("/staff/ is not the staff page")
	}
	for _, path := range []string{
		"/staff/login",
		"/staff/cases",
		"/staff/cases/new",
		"/staff/cases/abc",
		"/staff/cases/abc/",
		"/staff/cases/%E6%B5%99",
		"/staff/no/such/page",
		"/staff/?q=Chen&kind=mediation&page=2",
		"/staff/?q=%E7%8E%8B&from=2026-11-01&to=2026-11-30&sort=last_session&order=asc",
		"/staff/sessions/abc/review",
	} {
		t.Run(path, func(t *testing.T) {
			res, body := get(t, path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			if body != want {
				t.Error("body differs from /staff/")
			}
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control %q, want no-cache", got)
			}
			checkSecurityHeaders(t, res.Header)
		})
	}
	res, _ := get(t, "/staff")
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/staff/" {
		t.Errorf("/staff: status %d to %q, want a redirect to /staff/", res.StatusCode, res.Header.Get("Location"))
	}
	checkSecurityHeaders(t, res.Header)
	res, _ = get(t, "/staff?q=x")
	if loc := res.Header.Get("Location"); loc != "/staff/?q=x" {
		t.Errorf("/staff?q=x: redirect to %q, want /staff/?q=x", loc)
	}
	req := httptest.NewRequest(http.MethodPost, "/staff/cases/new", nil)
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /staff/cases/new: status %d, want 405", rec.Code)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/static/app.js", nil)
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", rec.Code)
	}
}

func TestHead(t *testing.T) {
	req := httptest.NewRequest(http.MethodHead, "/join/x", nil)
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD: status %d, %d body bytes; want 200 and none", rec.Code, rec.Body.Len())
	}
}

func TestConditionalGet(t *testing.T) {
	res, _ := get(t, "/static/app.js")
	etag := res.Header.Get("ETag")
	res2, body := get(t, "/static/app.js", "If-None-Match", etag)
	if res2.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("If-None-Match: status %d, want 304 without body", res2.StatusCode)
	}
}

// TestNoInlineCode checks the HTML files against what the CSP forbids:
// inline scripts, inline styles and event handler attributes.
func TestNoInlineCode(t *testing.T) {
	for _, name := range []string{"static/index.html", "static/join.html", "static/staff.html"} {
		data, err := staticFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		html := strings.ToLower(string(data))
		for _, bad := range []string{"<style", " style=", " onclick=", " onload=", " onchange=", "javascript:"} {
			if strings.Contains(html, bad) {
				t.Errorf("%s contains %q, which the CSP blocks", name, bad)
			}
		}
		for _, tag := range strings.Split(html, "<script")[1:] {
			if !strings.Contains(tag[:strings.Index(tag, ">")], "src=") {
				t.Errorf("%s has an inline <script>", name)
			}
		}
	}
}

func TestContentType(t *testing.T) {
	for name, want := range map[string]string{
		"a.js":    "text/javascript; charset=utf-8",
		"a.CSS":   "text/css; charset=utf-8",
		"a.html":  "text/html; charset=utf-8",
		"a.bin":   "application/octet-stream",
		"noext":   "application/octet-stream",
		"x/y.svg": "image/svg+xml",
	} {
		if got := contentType(name); got != want {
			t.Errorf("contentType(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestJavaScript runs the node tests of the ES modules (testdata/*.mjs)
// when node is installed, and checks the syntax of every module.
func TestJavaScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	files, err := filepath.Glob("static/*.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("no modules: %v", err)
	}
	for _, f := range files {
		src, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(node, "--input-type=module", "--check")
		cmd.Stdin = src
		out, err := cmd.CombinedOutput()
		src.Close()
		if err != nil {
			t.Errorf("%s: %v\n%s", f, err, out)
		}
	}
	tests, _ := filepath.Glob("testdata/*_test.mjs")
	out, err := exec.Command(node, append([]string{"--test"}, tests...)...).CombinedOutput()
	if err != nil {
		t.Errorf("node --test: %v\n%s", err, out)
	}
}

// importRE matches the relative imports of a module: static imports and
// re-exports (from './x.js') and JSDoc type imports (import('./x.js')).
var importRE = regexp.MustCompile(`(?:from\s+|import\()'\./([\w.-]+)'`)

// TestModuleImports checks that every module another one imports is
// embedded and served as JavaScript, so that no page fails to load a
// module after a file is split or renamed.
func TestModuleImports(t *testing.T) {
	modules, err := fs.Glob(staticFS, "static/*.js")
	if err != nil || len(modules) < 10 {
		t.Fatalf("modules %v: %v", modules, err)
	}
	imported := map[string]bool{}
	for _, name := range modules {
		data, err := staticFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range importRE.FindAllStringSubmatch(string(data), -1) {
			imported[m[1]] = true
			res, _ := get(t, "/static/"+m[1])
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
				t.Errorf("%s imports ./%s: status %d, Content-Type %q", name, m[1], res.StatusCode, res.Header.Get("Content-Type"))
			}
		}
	}
	for _, m := range []string{"protocol.js", "peers.js", "page.js", "call.js", "staff-common.js", "staff-sessions.js",
		"staff-review.js", "player.js", "playclock.js", "timeline.js", "waitroom.js", "chat.js", "host.js", "dialog.js"} {
		if !imported[m] {
			t.Errorf("no module imports %s", m)
		}
	}
}

func TestCheck(t *testing.T) {
	if err := Check(); err != nil {
		t.Fatal(err)
	}
}

func TestReadFilesMissingPage(t *testing.T) {
	fsys := fstest.MapFS{
		"static/index.html": {Data: []byte("<!doctype html>")},
		"static/staff.html": {Data: []byte("<!doctype html>")},
		"static/book.html":  {Data: []byte("<!doctype html>")},
	}
	if _, err := readFiles(fsys, "static"); err == nil || !strings.Contains(err.Error(), "join.html") {
		t.Errorf("without join.html: %v, want an error naming it", err)
	}
	if _, err := readFiles(fsys, "nope"); err == nil {
		t.Error("missing directory: no error")
	}
	fsys["static/join.html"] = &fstest.MapFile{Data: []byte("<!doctype html>")}
	files, err := readFiles(fsys, "static")
	if err != nil || len(files) != 4 {
		t.Errorf("complete: %d files, %v", len(files), err)
	}
}

// The string tables are JavaScript object literals, one entry a line:
//
//	'en': {
//	  'key': 'text',
//	},
var (
	tableStartRE  = regexp.MustCompile(`^  '(en|zh-CN|it)': \{$`)
	tableEntryRE  = regexp.MustCompile(`^    '([^']+)': '((?:[^'\\]|\\.)*)',$`)
	placeholderRE = regexp.MustCompile(`\{(\w+)\}`)
	// keyCallRE finds the keys a module looks up by literal: t('key', …) and has('key').
	// (not methods: params.has('lang') is no key).
	keyCallRE = regexp.MustCompile(`(?:^|[^.\w$])(?:t|has)\(\s*'([^']+)'`)
	// keyLiteralRE finds string literals shaped like keys ('media.none'),
	// which modules keep in variables before looking them up.
	keyLiteralRE = regexp.MustCompile(`'([a-z][a-zA-Z]*(?:\.[a-zA-Z0-9_]+)+)'`)
	dataI18nRE   = regexp.MustCompile(`data-i18n(?:-label)?="([^"]+)"`)
)

// stringTables reads the tables of a strings module by language. It fails
// on a line inside a table it cannot read, so that no entry goes unchecked.
func stringTables(t *testing.T, name string) map[string]map[string]string {
	t.Helper()
	data, err := staticFS.ReadFile("static/" + name)
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]map[string]string{}
	var lang string
	for i, line := range strings.Split(string(data), "\n") {
		if m := tableStartRE.FindStringSubmatch(line); m != nil {
			lang = m[1]
			tables[lang] = map[string]string{}
			continue
		}
		if lang == "" {
			continue
		}
		if strings.HasPrefix(line, "  }") {
			lang = ""
			continue
		}
		m := tableEntryRE.FindStringSubmatch(line)
		if m == nil {
			if s := strings.TrimSpace(line); s != "" && !strings.HasPrefix(s, "//") {
				t.Errorf("%s:%d: cannot read the entry %q", name, i+1, line)
			}
			continue
		}
		if _, dup := tables[lang][m[1]]; dup {
			t.Errorf("%s:%d: %s %q appears twice", name, i+1, lang, m[1])
		}
		tables[lang][m[1]] = m[2]
	}
	if len(tables) != 3 {
		t.Fatalf("%s: tables %v, want en, zh-CN and it", name, keysOf(tables))
	}
	return tables
}

func keysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func placeholders(s string) string {
	var names []string
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// checkSameKeys checks that the three languages of tables have the same
// keys, the same placeholders and no empty text.
func checkSameKeys(t *testing.T, name string, tables map[string]map[string]string) {
	t.Helper()
	en := tables["en"]
	for _, lang := range []string{"en", "zh-CN", "it"} {
		table := tables[lang]
		for key, text := range table {
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s: %s %q is empty", name, lang, key)
			}
			if _, ok := en[key]; !ok {
				t.Errorf("%s: %s has %q, English does not", name, lang, key)
			} else if placeholders(text) != placeholders(en[key]) {
				t.Errorf("%s: %s %q has placeholders {%s}, English {%s}", name, lang, key, placeholders(text), placeholders(en[key]))
			}
		}
		for key := range en {
			if _, ok := table[key]; !ok {
				t.Errorf("%s: %s lacks %q", name, lang, key)
			}
		}
	}
}

// pageSources returns the source of a page (an HTML file in static/) and
// of every module its entry module imports, directly or not.
func pageSources(t *testing.T, html, entry string) (string, string) {
	t.Helper()
	page, err := staticFS.ReadFile("static/" + html)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var sources []string
	var visit func(string)
	visit = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		data, err := staticFS.ReadFile("static/" + name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sources = append(sources, string(data))
		for _, m := range importRE.FindAllStringSubmatch(string(data), -1) {
			visit(m[1])
		}
	}
	visit(entry)
	return string(page), strings.Join(sources, "\n")
}

// usedKeys returns the keys a page's HTML and modules name: data-i18n
// attributes, t('…') and has('…') calls, and key-shaped literals of the
// key families (first words) of the tables.
func usedKeys(html, js string, families map[string]bool) map[string]bool {
	used := map[string]bool{}
	for _, m := range dataI18nRE.FindAllStringSubmatch(html, -1) {
		used[m[1]] = true
	}
	for _, m := range keyCallRE.FindAllStringSubmatch(js, -1) {
		used[m[1]] = true
	}
	for _, m := range keyLiteralRE.FindAllStringSubmatch(js, -1) {
		if families[strings.SplitN(m[1], ".", 2)[0]] {
			used[m[1]] = true
		}
	}
	return used
}

// families are the first words of a table's dotted keys ('media' of
// 'media.none').
func families(tables ...map[string]string) map[string]bool {
	f := map[string]bool{}
	for _, table := range tables {
		for key := range table {
			if i := strings.IndexByte(key, '.'); i > 0 {
				f[key[:i]] = true
			}
		}
	}
	return f
}

// protocolWords returns the backquoted words of the parenthesized list in
// the docs/protocol.md table row of a message type: the reasons of
// `waiting` or of `bye`.
func protocolWords(t *testing.T, doc, msgType string) []string {
	t.Helper()
	var row string
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "| `"+msgType+"` |") {
			row = line
		}
	}
	var best []string
	for _, group := range regexp.MustCompile("\\(((?:`\\w+`(?:, )?)+)\\)").FindAllStringSubmatch(row, -1) {
		words := regexp.MustCompile("`(\\w+)`").FindAllStringSubmatch(group[1], -1)
		if len(words) > len(best) {
			best = best[:0]
			for _, w := range words {
				best = append(best, w[1])
			}
		}
	}
	if len(best) < 2 {
		t.Fatalf("docs/protocol.md: no list of reasons in the row of %s: %q", msgType, row)
	}
	return best
}

// protocolErrorCodes returns the codes of the error table of
// docs/protocol.md.
func protocolErrorCodes(t *testing.T, doc string) []string {
	t.Helper()
	section := doc[strings.Index(doc, "## Error codes"):]
	section = section[:strings.Index(section[3:], "\n## ")+3]
	var codes []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(\\w+)` \\|").FindAllStringSubmatch(section, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) < 15 {
		t.Fatalf("docs/protocol.md: %d error codes, expected the whole table", len(codes))
	}
	return codes
}

// TestStringTables checks the string tables without node: in i18n.js
// (the join page, and what the staff pages share) and in staff-strings.js
// (the staff pages), English, Chinese and Italian have the same keys,
// with the same placeholders and no empty text; and every key the join
// page or the staff pages use exists, including those made up at run
// time from the protocol's waiting and bye reasons and error codes.
func TestStringTables(t *testing.T) {
	common := stringTables(t, "i18n.js")
	staff := stringTables(t, "staff-strings.js")
	checkSameKeys(t, "i18n.js", common)
	checkSameKeys(t, "staff-strings.js", staff)

	html, js := pageSources(t, "join.html", "app.js")
	if !strings.Contains(js, "export function renderControls") || !strings.Contains(js, "export class Client") {
		t.Fatal("the modules app.js imports were not all read")
	}
	used := usedKeys(html, js, families(common["en"]))
	if len(used) < 100 {
		t.Fatalf("only %d keys found in the join page: the patterns miss its lookups", len(used))
	}
	// Keys made up at run time (t(`waiting.title.${reason}`) and the like).
	doc, err := os.ReadFile(filepath.Join("..", "docs", "protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, reason := range protocolWords(t, string(doc), "waiting") {
		for _, family := range []string{"waiting.title.", "waiting.reason.", "lobby.reason."} {
			used[family+reason] = true
		}
	}
	for _, reason := range protocolWords(t, string(doc), "bye") {
		if reason != "left" {
			used["closed."+reason] = true
		}
	}
	used["left.title.rejected"], used["left.title.removed"] = true, true
	for _, code := range protocolErrorCodes(t, string(doc)) {
		if code != "too_large" { // a close code, never a message
			used["error."+code] = true
		}
	}
	for _, role := range []string{"party", "mediator", "notary", "judge", "interpreter", "clerk", "observer", "admin"} {
		used["role."+role] = true
	}
	for _, key := range keysOf(used) {
		if _, ok := common["en"][key]; !ok {
			t.Errorf("the join page uses %q, which i18n.js lacks", key)
		}
	}

	html, js = pageSources(t, "staff.html", "staff.js")
	if !strings.Contains(js, "STAFF_STRINGS") {
		t.Fatal("the modules staff.js imports were not all read")
	}
	used = usedKeys(html, js, families(staff["en"]))
	if len(used) < 100 {
		t.Fatalf("only %d keys found in the staff pages: the patterns miss their lookups", len(used))
	}
	for _, key := range keysOf(used) {
		_, inCommon := common["en"][key]
		_, inStaff := staff["en"][key]
		if !inCommon && !inStaff {
			t.Errorf("the staff pages use %q, which neither i18n.js nor staff-strings.js has", key)
		}
	}
}
