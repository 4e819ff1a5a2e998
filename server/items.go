package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"incidentmap/crs"
	"incidentmap/geo"
	"incidentmap/incident"
)

// items streams a FeatureCollection page: the head (with numberMatched and
// links, known before the first row), the features one by one, and the tail.
// Memory does not grow with the page size.
func (h *handlers) items(c *fiber.Ctx) error {
	q, err := h.parseItemsQuery(c)
	if err != nil {
		return err
	}
	if ef, ok := exportFormatOf(c); ok {
		if q.props != nil || q.skipGeometry {
			return badRequest("properties and skipGeometry shape the GeoJSON pages; a download holds every property")
		}
		return h.exportItems(c, ef)
	}
	format, err := negotiate(c)
	if err != nil {
		return err
	}
	if format == formatHTML && q.crs != crs.CRS84 {
		return badRequest("crs applies to GeoJSON (f=json); the HTML page shows CRS84")
	}
	// Many readers of one view (the public map's normal case) get the same
	// bytes: a page is kept per URL, Accept and base URL for the data
	// version the request was validated against (see conditionalGet).
	version, versioned := c.Locals(localDataVersion).(int64)
	pageKey := ""
	if versioned && format != formatHTML && q.filter.Limit > 0 && q.filter.Limit <= bufferedPageLimit {
		pageKey = h.baseURL(c) + "\x00" + string(c.Request().RequestURI()) + "\x00" + c.Get(fiber.HeaderAccept)
		if body, ok := h.pages.get(version, pageKey); ok {
			c.Set(fiber.HeaderContentType, MediaGeoJSON)
			setContentCRS(c, q.crs)
			c.Set("X-Cache", "HIT")
			return c.Send(body)
		}
	}
	ctx, cancel := h.requestContext(c)
	path := utils.CopyString(c.Path())
	out := q.crs
	log, metrics := h.log, h.metrics
	props, skipGeometry := q.props, q.skipGeometry
	if format == formatHTML && q.filter.Limit > 0 && q.filter.Limit <= bufferedPageLimit {
		return h.bufferedItemsHTML(c, q, path)
	}
	if format != formatHTML && q.filter.Limit > 0 && q.filter.Limit <= bufferedPageLimit {
		// A page of at most 1,000 features (≤ ~1 MB) is built in one buffer
		// and sent with its length: one write instead of a chunk per 64 KB,
		// a 500 instead of a cut document if reading fails, the snapshot
		// released before the first byte goes out, and the bytes to keep
		// for the next asker of the same view. Built before its head, it
		// need not wait for numberMatched: the engine may leave a long count
		// to the background (MayDeferCount), and one row more than the page
		// says whether there is a next page.
		f := q.filter
		f.MayDeferCount = true
		f.Limit++
		cur, err := h.store.Incidents(ctx, f, true)
		if err != nil {
			cancel()
			return fmt.Errorf("items: %w", err)
		}
		feats := featureBuffers.Get().(*bytes.Buffer)
		defer putFeatureBuffer(feats)
		n, more, err := writeFeaturesUpTo(feats, cur, out, props, skipGeometry, q.filter.Limit)
		matched := cur.Matched()
		cur.Close()
		cancel()
		metrics.RowsStreamed(n)
		if err != nil {
			return fmt.Errorf("items: %w", err)
		}
		head, err := collectionHead(h.itemsLinks(c, path, q, more, format), matched, q.crs)
		if err != nil {
			return err
		}
		body := append(make([]byte, 0, len(head)+feats.Len()+32), head...)
		body = append(append(body, feats.Bytes()...), `],"numberReturned":`...)
		body = append(strconv.AppendInt(body, int64(n), 10), '}')
		c.Set(fiber.HeaderContentType, MediaGeoJSON)
		setContentCRS(c, q.crs)
		// A page without numberMatched is not kept: the next asker gets the
		// number the background count leaves in the engine's cache.
		if pageKey != "" && matched >= 0 && len(body) <= pageCacheMaxBytes {
			h.pages.put(version, pageKey, body)
		}
		if pageKey != "" {
			c.Set("X-Cache", "MISS")
		}
		return c.Send(body)
	}
	cur, err := h.store.Incidents(ctx, q.filter, true)
	if err != nil {
		cancel()
		return fmt.Errorf("items: %w", err)
	}
	links := h.itemsLinks(c, path, q, hasNext(q.filter, cur.Matched()), format)
	if format == formatHTML {
		return h.streamItemsHTML(c, cancel, cur, q, links)
	}
	head, err := collectionHead(links, cur.Matched(), q.crs)
	if err != nil {
		cancel()
		cur.Close()
		return err
	}
	c.Set(fiber.HeaderContentType, MediaGeoJSON)
	setContentCRS(c, q.crs)
	// The encoder runs after this handler returns, so it must not touch c. It
	// writes into a spool, so the snapshot ends with the last row, whatever
	// the client's pace (see streamSpooled).
	release := func() { cur.Close(); cancel() }
	return h.streamSpooled(c, release, func(sw io.Writer) error {
		w := bufio.NewWriterSize(sw, 64<<10)
		defer w.Flush()
		w.Write(head)
		n, err := writeFeatures(w, cur, out, props, skipGeometry)
		metrics.RowsStreamed(n)
		if err != nil {
			// The status is sent already; an unterminated document tells the client.
			log.Info("items stream ended early", "path", path, "err", err)
			return err
		}
		fmt.Fprintf(w, `],"numberReturned":%d}`, n)
		return w.Flush()
	})
}

// bufferedPageLimit is the largest page (limit) items builds in memory and
// sends with a Content-Length; larger pages stream.
const bufferedPageLimit = 1000

// featureBuffers hold a buffered page's features while it is built (they are
// copied into the body after its head): growing a new buffer to 70–800 KB
// for every page was a tenth of an uncached page's CPU in allocation,
// zeroing and copying.
var featureBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledFeatures is the largest feature buffer kept for the next page
// (a page of 1,000 with long notes); larger ones are left to the GC.
const maxPooledFeatures = 2 << 20

func putFeatureBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledFeatures {
		return
	}
	b.Reset()
	featureBuffers.Put(b)
}

// pageCacheMaxBytes is the largest page the page cache keeps (the cache's
// own budget is Config.PageCacheBytes).
const pageCacheMaxBytes = 1 << 20

// writeFeatures writes the features of cur (with the properties props, all
// when nil, and no geometry with skipGeometry), comma-separated, to w and
// says how many it wrote; an error is the client's (stopped reading) or the
// store's.
func writeFeatures(w io.Writer, cur incident.Cursor, out *crs.CRS, props []string, skipGeometry bool) (int, error) {
	buf := make([]byte, 0, 4096)
	n := 0
	for cur.Next() {
		buf = buf[:0]
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = geo.AppendFeatureSelect(buf, inCRS(cur.Incident(), out), props, skipGeometry)
		if _, err := w.Write(buf); err != nil {
			return n, fmt.Errorf("client stopped reading: %w", err)
		}
		n++
	}
	return n, cur.Err()
}

// writeFeaturesUpTo is writeFeatures of at most limit features; more says
// whether cur held another.
func writeFeaturesUpTo(w io.Writer, cur incident.Cursor, out *crs.CRS, props []string, skipGeometry bool, limit int) (n int, more bool, err error) {
	lc := &limitedCursor{Cursor: cur, left: limit}
	n, err = writeFeatures(w, lc, out, props, skipGeometry)
	return n, lc.more, err
}

// limitedCursor ends a cursor after left rows and notes whether it had more.
type limitedCursor struct {
	incident.Cursor
	left int
	more bool
}

func (l *limitedCursor) Next() bool {
	if !l.Cursor.Next() {
		return false
	}
	if l.left == 0 {
		l.more = true
		return false
	}
	l.left--
	return true
}

// hasNext says whether a page of f is followed by another when matched
// incidents match in all.
func hasNext(f incident.Filter, matched int64) bool {
	return int64(f.Offset+f.Limit) < matched
}

// collectionHead is the FeatureCollection up to the opening of "features".
// Coordinates in a CRS other than CRS84 are stated by the Content-Crs header
// and, for JSON-FG readers, a coordRefSys member.
func collectionHead(links []Link, matched int64, c *crs.CRS) ([]byte, error) {
	lj, err := marshalLinks(links)
	if err != nil {
		return nil, err
	}
	head := []byte(`{"type":"FeatureCollection",`)
	if c != nil && c != crs.CRS84 {
		head = append(head, `"coordRefSys":`...)
		head = geo.AppendString(head, c.URI)
		head = append(head, ',')
	}
	head = append(head, `"timeStamp":`...)
	head = geo.AppendString(head, time.Now().UTC().Format(time.RFC3339))
	if matched >= 0 {
		// Unknown (a count left to the background) is said by leaving it out,
		// as OGC API – Features allows.
		head = append(head, `,"numberMatched":`...)
		head = strconv.AppendInt(head, matched, 10)
	}
	head = append(head, `,"links":`...)
	head = append(head, lj...)
	return append(head, `,"features":[`...), nil
}

// itemsLinks are self, alternate, collection and the next/prev pages of an
// items response in format; the page links keep that format.
func (h *handlers) itemsLinks(c *fiber.Ctx, path string, q itemsQuery, next bool, format format) []Link {
	base := h.baseURL(c)
	f := q.filter
	selfType, altType, altF := MediaGeoJSON, MediaHTML, "html"
	if format == formatHTML {
		selfType, altType, altF = MediaHTML, MediaGeoJSON, "json"
	}
	raw := q.raw
	links := []Link{
		{Href: pageHref(base, path, raw, f.Offset), Rel: "self", Type: selfType, Title: "this page"},
		{Href: pageHref(base, path, withParam(raw, "f", altF), f.Offset), Rel: "alternate", Type: altType, Title: "this page as " + altF},
		{Href: base + strings.TrimSuffix(path, "/items"), Rel: "collection", Type: MediaJSON, Title: "the collection"},
	}
	if strings.HasPrefix(path, "/collections/incidents/") {
		// Every matching incident (not just this page) as each download
		// format, for GIS tools and spreadsheets.
		links = append(links, downloadLinks(base, raw)...)
	}
	if next {
		links = append(links, Link{Href: pageHref(base, path, raw, f.Offset+f.Limit), Rel: "next", Type: selfType, Title: "next page"})
	}
	if f.Offset > 0 {
		links = append(links, Link{Href: pageHref(base, path, raw, max(0, f.Offset-f.Limit)), Rel: "prev", Type: selfType, Title: "previous page"})
	}
	return links
}

// withParam is a copy of vals with key set to value.
func withParam(vals url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, v := range vals {
		out[k] = v
	}
	out.Set(key, value)
	return out
}

// item serves one incident as a GeoJSON Feature with its links.
func (h *handlers) item(c *fiber.Ctx) error {
	vals, err := queryValues(c, []string{"f", "crs"})
	if err != nil {
		return err
	}
	format, err := negotiate(c)
	if err != nil {
		return err
	}
	out := crs.CRS84
	if s, ok := one(vals, "crs"); ok {
		if out, err = crs.Lookup(s); err != nil {
			return badRequest("crs: " + err.Error())
		}
		if format == formatHTML && out != crs.CRS84 {
			return badRequest("crs applies to GeoJSON (f=json); the HTML page shows CRS84")
		}
	}
	fid := c.Params("fid")
	id, perr := strconv.ParseInt(fid, 10, 64)
	if perr != nil || id < 1 {
		return notFound(fmt.Sprintf("no incident with id %q: ids are positive whole numbers", fid))
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	inc, err := h.store.Incident(ctx, id)
	if err != nil {
		return err
	}
	base := h.baseURL(c)
	self := base + "/collections/incidents/items/" + strconv.FormatInt(id, 10)
	ll := []Link{
		{Href: self, Rel: "self", Type: MediaGeoJSON, Title: "this feature"},
		{Href: self + "?f=html", Rel: "alternate", Type: MediaHTML, Title: "this feature as HTML"},
		{Href: base + "/collections/incidents", Rel: "collection", Type: MediaJSON, Title: "the collection"},
	}
	if format == formatHTML {
		// The page has no ETag of its own (the data version's applies).
		return h.render(c, format, resource{Page: "item", Title: inc.EventID + ": " + inc.EventType,
			Links: featurePageLinks(ll, self), View: &inc})
	}
	body, err := h.featureDoc(base, inCRS(&inc, out))
	if err != nil {
		return err
	}
	setContentCRS(c, out)
	// The feature's own strong tag replaces the data version's weak one, so a
	// client can send it back in If-Match on a write (issue 5).
	tag := featureETag(&inc)
	if out != crs.CRS84 {
		// Another CRS is another representation: its own tag, so that a
		// client's CRS84 copy never validates it (writes take CRS84's).
		tag = strings.TrimSuffix(tag, `"`) + "-epsg" + strconv.Itoa(out.EPSG) + `"`
	}
	c.Set(fiber.HeaderETag, tag)
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), tag) {
		return c.SendStatus(http.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, MediaGeoJSON)
	return c.Send(body)
}

// inCRS is inc with its coordinates in c, in c's axis order, for the GeoJSON
// encoder (which writes the point's two numbers in the order held). The
// stored incident is not changed.
func inCRS(inc *incident.Incident, c *crs.CRS) *incident.Incident {
	if c == nil || c == crs.CRS84 {
		return inc
	}
	out := *inc
	out.Lon, out.Lat = c.Forward(inc.Lon, inc.Lat)
	return &out
}

// setContentCRS states the CRS of a response's coordinates (Part 2).
func setContentCRS(c *fiber.Ctx, cr *crs.CRS) {
	if cr == nil {
		cr = crs.CRS84
	}
	c.Set("Content-Crs", "<"+cr.URI+">")
}
