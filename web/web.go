// Package web serves the browser client: plain ES modules and CSS embedded
// with go:embed, no build step.
//
// Routes (Go 1.22 ServeMux patterns):
//
//	GET /               the landing page (static/index.html)
//	GET /join/{token}   the pre-join and call page (static/join.html); the
//	                    script reads the invite token from location.pathname
//	GET /book/{token}   the booking page (static/book.html): the party of an
//	                    invite picks a time in the organization's office hours
//	GET /staff/...      the staff pages (static/staff.html), one document for
//	                    every path below /staff/ so that deep links such as
//	                    /staff/cases/<id> load it; the script routes.
//	                    GET /staff redirects to /staff/
//	GET /static/{path}  the embedded files
//
// Every response carries the security headers of [setSecurityHeaders]; the
// Content-Security-Policy forbids inline scripts and styles, so the client
// is made only of external files.
//
// A build whose embedded files are incomplete serves only errors; [Check]
// reports it, and the node refuses to start then.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed static
var staticFS embed.FS

// contentSecurityPolicy allows only same-origin scripts, styles and
// connections (plus the websocket), and media from local capture.
const contentSecurityPolicy = "default-src 'self'; " +
	"media-src 'self' blob: mediastream:; " +
	"connect-src 'self' ws: wss:; " +
	"img-src 'self' data: blob:; " +
	"style-src 'self'; " +
	"script-src 'self'; " +
	"object-src 'none'; " +
	"base-uri 'none'; " +
	"frame-ancestors 'none'"

// contentTypes maps the extensions of the embedded files to their types.
// It does not depend on the host's MIME tables.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
}

// requiredFiles are the pages the routes serve.
var requiredFiles = []string{"index.html", "join.html", "staff.html", "book.html"}

// loadedFiles loads the embedded files once, for every [Handler] and [Check].
var loadedFiles = sync.OnceValues(loadFiles)

// file is one embedded file ready to serve.
type file struct {
	name        string
	data        []byte
	contentType string
	etag        string
}

// Check reports an error if the embedded files of the client cannot be
// read or lack a page; [Handler] then answers every request with 500.
func Check() error {
	_, err := loadedFiles()
	return err
}

// Handler returns the handler of the browser client. It is safe for
// concurrent use and can be mounted at the root of the server's mux. If
// [Check] fails, it answers every request with 500.
func Handler() http.Handler {
	files, err := loadedFiles()
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			setSecurityHeaders(w.Header())
			http.Error(w, "web client unavailable", http.StatusInternalServerError)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", serveFile(files["index.html"]))
	mux.Handle("GET /join/{token}", serveFile(files["join.html"]))
	mux.Handle("GET /book/{token}", serveFile(files["book.html"]))
	mux.Handle("GET /staff/{rest...}", serveFile(files["staff.html"]))
	mux.HandleFunc("GET /staff", func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header())
		target := "/staff/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /static/{path...}", func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.PathValue("path")]
		if !ok {
			setSecurityHeaders(w.Header())
			http.NotFound(w, r)
			return
		}
		serveFile(f).ServeHTTP(w, r)
	})
	return mux
}

// loadFiles reads every regular file under static into memory, keyed by its
// path relative to static. Lookups in the map cannot escape the directory,
// whatever the request path.
func loadFiles() (map[string]*file, error) {
	return readFiles(staticFS, "static")
}

// readFiles reads every regular file under dir of fsys, and checks that
// the required files are there.
func readFiles(fsys fs.FS, dir string) (map[string]*file, error) {
	root, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	files := make(map[string]*file)
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		files[name] = &file{
			name:        name,
			data:        data,
			contentType: contentType(name),
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: reading the embedded files: %w", err)
	}
	for _, required := range requiredFiles {
		if files[required] == nil {
			return nil, fmt.Errorf("web: %s/%s is not embedded", dir, required)
		}
	}
	return files, nil
}

// contentType returns the type of the file called name.
func contentType(name string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}

// serveFile answers with f. The client revalidates every time (no-cache)
// and gets 304 when its ETag still matches.
func serveFile(f *file) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		setSecurityHeaders(h)
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.data))
	})
}

// setSecurityHeaders sets the headers every response of the client carries.
// Referrer-Policy matters: the invite token is in the page's path and must
// not leak to other origins.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self)")
	h.Set("X-Frame-Options", "DENY")
}
