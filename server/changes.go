package server

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"incidentmap/geo"
	"incidentmap/incident"
)

// changesPath is the paged change feed of the incidents (issue 13 §6).
const changesPath = "/collections/incidents/changes"

// Limits of one page of the change feed.
const (
	changesDefaultLimit = 1000
	changesMaxLimit     = 10000
)

// MediaGeoJSONSeq is the media type of GeoJSON text sequences (RFC 8142).
const MediaGeoJSONSeq = "application/geo+json-seq"

// changesParamDefs are the parameters of the change feed.
var changesParamDefs = []paramDef{
	{Name: "since", Description: "Return the changes after this sequence number (the next link's since; 0, the default, replays every change).",
		Schema: map[string]any{"type": "integer", "minimum": 0, "default": 0}},
	{Name: "limit", Description: "At most this many changes (a larger value is clamped).",
		Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": changesMaxLimit, "default": changesDefaultLimit}},
	{Name: "f", Description: "json (one document with the changes and the next since) or geojsonseq (RFC 8142: one Feature per change; " +
		"the next since in the Link header and X-Next-Since).",
		Schema: map[string]any{"type": "string", "enum": []string{"json", "geojsonseq"}, "default": "json"}},
}

// changes serves GET /collections/incidents/changes?since=SEQ&limit=N: the
// created, updated and deleted incidents after since, oldest first, each
// created or updated one as a Feature as it is when sent (a change whose
// incident is gone since is left out: its deletion follows), each deletion
// as its id and event_id, and the since of the next page. A client that
// applies the pages in order, and resumes from the last since it saved
// after losing its place, ends with exactly the server's incidents: every
// write, by anyone, is in the change log, and applying a page twice changes
// nothing. A since beyond the log (the database was replaced, a backup
// restored) answers reset: drop everything and sync again from 0.
func (h *handlers) changesFeed(c *fiber.Ctx) error {
	vals, err := queryValues(c, paramNames(changesParamDefs))
	if err != nil {
		return err
	}
	since, limit := int64(0), changesDefaultLimit
	if s, ok := one(vals, "since"); ok {
		if since, err = strconv.ParseInt(s, 10, 64); err != nil || since < 0 {
			return badRequest(fmt.Sprintf("since %q must be a sequence number (a whole number of at least 0)", s))
		}
	}
	if s, ok := one(vals, "limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return badRequest(fmt.Sprintf("limit %q must be a whole number of at least 1", s))
		}
		limit = min(n, changesMaxLimit)
	}
	seq := false
	switch s, _ := one(vals, "f"); s {
	case "", "json":
	case "geojsonseq":
		seq = true
	default:
		return &Error{Status: http.StatusNotAcceptable, Code: CodeNotAcceptable,
			Description: fmt.Sprintf("f=%s is not offered here; use json or geojsonseq", s)}
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	v, err := h.store.DataVersion(ctx)
	if err != nil {
		return err
	}
	reset := since > v.Seq
	var changes []incident.Change
	current := map[int64]incident.Incident{}
	if !reset {
		if changes, err = h.store.Changes(ctx, since, limit); err != nil {
			return err
		}
		var ids []int64
		for _, ch := range changes {
			if ch.Op != "deleted" {
				ids = append(ids, ch.IncidentID)
			}
		}
		if len(ids) > 0 {
			cur, err := h.store.Incidents(ctx, incident.Filter{IDs: ids}, false)
			if err != nil {
				return fmt.Errorf("changes: %w", err)
			}
			for cur.Next() {
				inc := *cur.Incident()
				current[inc.ID] = inc
			}
			err = cur.Err()
			cur.Close()
			if err != nil {
				return fmt.Errorf("changes: %w", err)
			}
		}
	}
	next := since
	if len(changes) > 0 {
		next = changes[len(changes)-1].Seq
	}
	if reset {
		next = 0
	}
	more := len(changes) == limit
	base := h.baseURL(c)
	page := func(s int64, f string) string {
		q := url.Values{"since": {strconv.FormatInt(s, 10)}, "limit": {strconv.Itoa(limit)}}
		if f != "" {
			q.Set("f", f)
		}
		return base + changesPath + "?" + q.Encode()
	}
	format := ""
	if seq {
		format = "geojsonseq"
	}
	links := []Link{{Href: page(since, format), Rel: "self", Type: MediaJSON, Title: "this page"},
		{Href: page(next, format), Rel: "next", Type: MediaJSON, Title: "the changes after this page (poll it when more is false)"}}
	if seq {
		links[0].Type, links[1].Type = MediaGeoJSONSeq, MediaGeoJSONSeq
	}
	c.Set("X-Next-Since", strconv.FormatInt(next, 10))
	c.Set(fiber.HeaderLink, fmt.Sprintf(`<%s>; rel="next"`, links[1].Href))
	c.Set(fiber.HeaderCacheControl, "no-store")
	if seq {
		c.Set(fiber.HeaderContentType, MediaGeoJSONSeq)
		c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
			buf := make([]byte, 0, 4096)
			for _, ch := range changes {
				buf = append(buf[:0], 0x1e)
				var ok bool
				if buf, ok = appendChangeFeature(buf, ch, current); ok {
					w.Write(append(buf, '\n'))
				}
			}
		})
		return nil
	}
	lj, err := marshalLinks(links)
	if err != nil {
		return err
	}
	body := []byte(`{"since":`)
	body = strconv.AppendInt(body, since, 10)
	body = append(body, `,"next":`...)
	body = strconv.AppendInt(body, next, 10)
	body = append(body, `,"more":`...)
	body = strconv.AppendBool(body, more)
	body = append(body, `,"reset":`...)
	body = strconv.AppendBool(body, reset)
	body = append(body, `,"links":`...)
	body = append(body, lj...)
	body = append(body, `,"changes":[`...)
	first := true
	for _, ch := range changes {
		mark := len(body)
		if !first {
			body = append(body, ',')
		}
		var ok bool
		if body, ok = appendChange(body, ch, current); !ok {
			body = body[:mark]
			continue
		}
		first = false
	}
	body = append(body, "]}"...)
	c.Set(fiber.HeaderContentType, MediaJSON)
	return c.Send(body)
}

// appendChange appends one change as {"seq","op","at","id","event_id"} and,
// for a creation or update, "feature"; ok is false for a change whose
// incident is gone (its deletion comes later in the log).
func appendChange(dst []byte, ch incident.Change, current map[int64]incident.Incident) ([]byte, bool) {
	inc, found := current[ch.IncidentID]
	if ch.Op != "deleted" && !found {
		return dst, false
	}
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendInt(dst, ch.Seq, 10)
	dst = append(dst, `,"op":`...)
	dst = geo.AppendString(dst, ch.Op)
	dst = append(dst, `,"at":`...)
	dst = geo.AppendString(dst, ch.At)
	dst = append(dst, `,"id":`...)
	dst = strconv.AppendInt(dst, ch.IncidentID, 10)
	dst = append(dst, `,"event_id":`...)
	dst = geo.AppendString(dst, ch.EventID)
	if ch.Op != "deleted" {
		dst = append(dst, `,"feature":`...)
		dst = geo.AppendFeature(dst, &inc)
	}
	return append(dst, '}'), true
}

// appendChangeFeature appends one change as a GeoJSON Feature for a text
// sequence: the incident as it is now, or for a deletion a Feature with its
// id, no geometry and no properties; either with a "change" member
// {"seq","op","at"}. ok is false as for appendChange.
func appendChangeFeature(dst []byte, ch incident.Change, current map[int64]incident.Incident) ([]byte, bool) {
	inc, found := current[ch.IncidentID]
	if ch.Op != "deleted" && !found {
		return dst, false
	}
	if ch.Op == "deleted" {
		dst = append(dst, `{"type":"Feature","id":`...)
		dst = strconv.AppendInt(dst, ch.IncidentID, 10)
		dst = append(dst, `,"geometry":null,"properties":{"event_id":`...)
		dst = geo.AppendString(dst, ch.EventID)
		dst = append(dst, "}}"...)
	} else {
		dst = geo.AppendFeature(dst, &inc)
	}
	dst = dst[:len(dst)-1] // reopen the Feature for its change member
	dst = append(dst, `,"change":{"seq":`...)
	dst = strconv.AppendInt(dst, ch.Seq, 10)
	dst = append(dst, `,"op":`...)
	dst = geo.AppendString(dst, ch.Op)
	dst = append(dst, `,"at":`...)
	dst = geo.AppendString(dst, ch.At)
	return append(dst, "}}"...), true
}
