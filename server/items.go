package server

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"incidentmap/geo"
)

// items streams a FeatureCollection page: the head (with numberMatched and
// links, known before the first row), the features one by one, and the tail.
// Memory does not grow with the page size.
func (h *handlers) items(c *fiber.Ctx) error {
	q, err := h.parseItemsQuery(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), h.cfg.RequestTimeout)
	cur, err := h.store.Incidents(ctx, q.filter, true)
	if err != nil {
		cancel()
		return fmt.Errorf("items: %w", err)
	}
	path := utils.CopyString(c.Path())
	head, err := collectionHead(h.itemsLinks(c, path, q, cur.Matched), cur.Matched)
	if err != nil {
		cancel()
		cur.Close()
		return err
	}
	c.Set(fiber.HeaderContentType, MediaGeoJSON)
	log := h.log
	// The stream writer runs after this handler returns, so it must not touch c.
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		defer cur.Close()
		w.Write(head)
		buf := make([]byte, 0, 4096)
		n := 0
		for cur.Next() {
			buf = buf[:0]
			if n > 0 {
				buf = append(buf, ',')
			}
			buf = geo.AppendFeature(buf, cur.Incident())
			if _, err := w.Write(buf); err != nil {
				log.Info("client stopped reading", "path", path, "err", err)
				return
			}
			n++
		}
		if err := cur.Err(); err != nil {
			// The status is sent already; an unterminated document tells the client.
			log.Error("items stream failed", "path", path, "err", err)
			return
		}
		fmt.Fprintf(w, `],"numberReturned":%d}`, n)
	})
	return nil
}

// collectionHead is the FeatureCollection up to the opening of "features".
func collectionHead(links []Link, matched int64) ([]byte, error) {
	lj, err := marshalLinks(links)
	if err != nil {
		return nil, err
	}
	head := []byte(`{"type":"FeatureCollection","timeStamp":`)
	head = geo.AppendString(head, time.Now().UTC().Format(time.RFC3339))
	head = append(head, `,"numberMatched":`...)
	head = strconv.AppendInt(head, matched, 10)
	head = append(head, `,"links":`...)
	head = append(head, lj...)
	return append(head, `,"features":[`...), nil
}

// itemsLinks are self, alternate and the next/prev pages of an items response.
func (h *handlers) itemsLinks(c *fiber.Ctx, path string, q itemsQuery, matched int64) []Link {
	base := h.baseURL(c)
	f := q.filter
	links := []Link{
		{Href: pageHref(base, path, q.raw, f.Offset), Rel: "self", Type: MediaGeoJSON, Title: "this page"},
	}
	if int64(f.Offset+f.Limit) < matched {
		links = append(links, Link{Href: pageHref(base, path, q.raw, f.Offset+f.Limit), Rel: "next", Type: MediaGeoJSON, Title: "next page"})
	}
	if f.Offset > 0 {
		links = append(links, Link{Href: pageHref(base, path, q.raw, max(0, f.Offset-f.Limit)), Rel: "prev", Type: MediaGeoJSON, Title: "previous page"})
	}
	return links
}

// item serves one incident as a GeoJSON Feature with its links.
func (h *handlers) item(c *fiber.Ctx) error {
	if _, err := queryValues(c, []string{"f"}); err != nil {
		return err
	}
	fid := c.Params("fid")
	id, err := strconv.ParseInt(fid, 10, 64)
	if err != nil || id < 1 {
		return notFound(fmt.Sprintf("no incident with id %q: ids are positive whole numbers", fid))
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), h.cfg.RequestTimeout)
	defer cancel()
	inc, err := h.store.Incident(ctx, id)
	if err != nil {
		return err
	}
	base := h.baseURL(c)
	links, err := marshalLinks([]Link{
		{Href: base + "/collections/incidents/items/" + strconv.FormatInt(id, 10), Rel: "self", Type: MediaGeoJSON},
		{Href: base + "/collections/incidents", Rel: "collection", Type: MediaJSON},
	})
	if err != nil {
		return err
	}
	body := geo.AppendFeature(nil, &inc)
	// Reopen the Feature object to add its links member.
	body = append(body[:len(body)-1], `,"links":`...)
	body = append(append(body, links...), '}')
	c.Set(fiber.HeaderContentType, MediaGeoJSON)
	return c.Send(body)
}
