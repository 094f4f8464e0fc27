// Package static embeds Hearth's stylesheet, vendored htmx and images, and
// serves them with content-hashed URLs so browsers may cache them for good.
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed css js img
var files embed.FS

// asset is one embedded file, read once at start.
type asset struct {
	data        []byte
	hash        string // first 10 hex digits of the SHA-256 of data
	contentType string
}

// assets maps a name such as "css/hearth.css" to its file. It is filled by
// init and never written again, so readers need no lock.
var assets = map[string]asset{}

// contentTypes pins the types of the files we ship, so they do not depend on
// the host's mime.types.
var contentTypes = map[string]string{
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
	".json": "application/json",
}

func init() {
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		assets[name] = asset{
			data:        data,
			hash:        hex.EncodeToString(sum[:])[:10],
			contentType: contentType(name, data),
		}
		return nil
	})
	if err != nil {
		// The files are compiled in; failing to read them is a build defect.
		panic("static: reading embedded files: " + err.Error())
	}
}

func contentType(name string, data []byte) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return http.DetectContentType(data)
}

// Path returns the URL of the embedded file name (such as "css/hearth.css"):
// "/static/<name>?v=<hash>", where hash changes whenever the file does. For a
// name that is not embedded it returns "/static/<name>" without a version
// (which will answer 404); the views' tests check that every name they use
// exists. Safe for concurrent use.
func Path(name string) string {
	name = strings.TrimPrefix(name, "/")
	if a, ok := assets[name]; ok {
		return "/static/" + name + "?v=" + a.hash
	}
	return "/static/" + name
}

// FS returns the embedded files, rooted so that names look like
// "css/hearth.css".
func FS() fs.FS { return files }

// Handler serves the embedded files for GET and HEAD requests at
// /static/<name> (a request path that was already stripped of "/static" works
// too). A request whose "v" query matches the file's current hash gets
// "Cache-Control: public, max-age=31536000, immutable"; any other request
// gets "no-cache", so a stale or missing version is revalidated by ETag.
// Unknown names and directories are 404.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/static")
	name = strings.TrimPrefix(name, "/")
	a, ok := assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+a.hash+`"`)
	if r.URL.Query().Get("v") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	// ServeContent answers If-None-Match, ranges and HEAD. A zero modtime
	// leaves out Last-Modified: the ETag is the validator.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
}
