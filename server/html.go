package server

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"iter"
	"strings"

	"github.com/gofiber/fiber/v2"

	"incidentmap/incident"
)

//go:embed templates/*.html
var templateFS embed.FS

// ogcCSS styles the HTML pages; it is a file, not inline, so the
// Content-Security-Policy can refuse inline styles.
//
//go:embed ogc.css
var ogcCSS []byte

// stylesheet serves ogcCSS.
func stylesheet(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.Send(ogcCSS)
}

// pages are the HTML views, one template set per page, each sharing layout.html.
type pages struct {
	byName map[string]*template.Template
}

// parsePages parses every page template with the layout.
func parsePages() (*pages, error) {
	names, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, fmt.Errorf("html templates: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	funcs := template.FuncMap{"json": prettyJSON}
	for _, e := range names {
		name := strings.TrimSuffix(e.Name(), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("html template %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// pageData is what every page template receives.
type pageData struct {
	Base  string // the server's public URL prefix, for links
	Title string
	Links []Link
	Data  any
}

// prettyJSON renders v as indented JSON for display.
func prettyJSON(v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return string(b), err
}

// renderHTML writes the page name with its title, links and data. Every value
// goes through html/template, so text from the data is escaped.
func (h *handlers) renderHTML(c *fiber.Ctx, name, title string, links []Link, data any) error {
	t, ok := h.html.byName[name]
	if !ok {
		return fmt.Errorf("no HTML page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pageData{Base: h.baseURL(c), Title: title, Links: links, Data: data}); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

// sendJSON writes v as JSON with the media type (no HTML escaping of '&' in links).
func sendJSON(c *fiber.Ctx, mediaType string, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode %s: %w", mediaType, err)
	}
	c.Set(fiber.HeaderContentType, mediaType)
	return c.Send(b.Bytes())
}

// itemsPage is the data of the items HTML page; Features streams from the
// cursor while the template runs, so a large page is never held in memory
// whole.
type itemsPage struct {
	Matched  int64 // -1 while it is being counted
	Limit    int
	Offset   int
	Features iter.Seq[*incident.Incident]
}

// bufferedItemsHTML serves an items HTML page of at most bufferedPageLimit
// incidents as the GeoJSON page is served: the rows read first (one more
// than the page, which says whether a next page exists), so that the page
// need not wait for a long count (MayDeferCount): the number is then given
// as being counted, and the next request of the same filter has it.
func (h *handlers) bufferedItemsHTML(c *fiber.Ctx, q itemsQuery, path string) error {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	f := q.filter
	f.MayDeferCount = true
	f.Limit++
	cur, err := h.store.Incidents(ctx, f, true)
	if err != nil {
		return fmt.Errorf("items: %w", err)
	}
	var incs []incident.Incident
	for cur.Next() {
		incs = append(incs, *cur.Incident())
	}
	matched := cur.Matched()
	err = errors.Join(cur.Err(), cur.Close())
	if err != nil {
		return fmt.Errorf("items: %w", err)
	}
	more := len(incs) > q.filter.Limit
	if more {
		incs = incs[:q.filter.Limit]
	}
	h.metrics.RowsStreamed(len(incs))
	data := pageData{Base: h.baseURL(c), Title: "Security incidents", Links: h.itemsLinks(c, path, q, more, formatHTML),
		Data: itemsPage{Matched: matched, Limit: q.filter.Limit, Offset: q.filter.Offset,
			Features: func(yield func(*incident.Incident) bool) {
				for i := range incs {
					if !yield(&incs[i]) {
						return
					}
				}
			}}}
	var b bytes.Buffer
	if err := h.html.byName["items"].ExecuteTemplate(&b, "layout", data); err != nil {
		return fmt.Errorf("items page: %w", err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(b.Bytes())
}

// streamItemsHTML streams the items page as HTML. It owns cancel and cur.
func (h *handlers) streamItemsHTML(c *fiber.Ctx, cancel context.CancelFunc, cur incident.Cursor, q itemsQuery, links []Link) error {
	t := h.html.byName["items"]
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	log, path := h.log, strings.Clone(c.Path())
	data := pageData{Base: h.baseURL(c), Title: "Security incidents", Links: links, Data: itemsPage{
		Matched: cur.Matched(), Limit: q.filter.Limit, Offset: q.filter.Offset,
		Features: func(yield func(*incident.Incident) bool) {
			for cur.Next() {
				if !yield(cur.Incident()) {
					return
				}
			}
		},
	}}
	release := func() { cur.Close(); cancel() }
	return h.streamSpooled(c, release, func(sw io.Writer) error {
		w := bufio.NewWriterSize(sw, 64<<10)
		if err := t.ExecuteTemplate(w, "layout", data); err != nil {
			log.Info("items page stopped", "path", path, "err", err)
			return err
		}
		if err := cur.Err(); err != nil {
			log.Error("items page stream failed", "path", path, "err", err)
			return err
		}
		return w.Flush()
	})
}
