package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"incidentmap/geo"
	"incidentmap/importer"
	"incidentmap/incident"
	"incidentmap/store"
)

// MediaMergePatch is the media type of a JSON merge patch (RFC 7396).
const MediaMergePatch = "application/merge-patch+json"

// registerWrites declares the write API (issue 5, OGC API – Features Part 4
// style): create, replace, merge-patch and delete incidents, and their history.
// Every write passes h.auth first.
func (h *handlers) registerWrites(app fiber.Router) {
	const items = "/collections/incidents/items"
	app.Post(items, h.auth, h.createItem)
	app.Put(items+"/:fid", h.auth, h.replaceItem)
	app.Patch(items+"/:fid", h.auth, h.patchItem)
	app.Delete(items+"/:fid", h.auth, h.deleteItem)
	app.Get(items+"/:fid/history", h.itemHistory)
}

// featureETag is the strong entity tag of an incident's GeoJSON: a hash of
// every stored field, so any change to the row changes it, and writing the
// same values again keeps it.
func featureETag(inc *incident.Incident) string {
	sum := sha256.Sum256(geo.AppendFeature(nil, inc))
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// ifMatch checks an If-Match header against the current version. No header
// passes: the precondition is the client's choice (send it to avoid lost
// updates). "*" passes for any existing incident; weak tags never match
// (RFC 9110 §13.1.1 compares strongly).
func ifMatch(header string, cur *incident.Incident) error {
	header = strings.TrimSpace(header)
	if header == "" || header == "*" {
		return nil
	}
	tag := featureETag(cur)
	for _, t := range strings.Split(header, ",") {
		if strings.TrimSpace(t) == tag {
			return nil
		}
	}
	return &Error{Status: http.StatusPreconditionFailed, Code: CodePreconditionFailed,
		Description: fmt.Sprintf("If-Match %s does not match the current version %s of incident %d; "+
			"GET it again, reapply the change and retry", header, tag, cur.ID)}
}

// featureID parses the {fid} of a write route.
func featureID(c *fiber.Ctx) (int64, error) {
	fid := c.Params("fid")
	id, err := strconv.ParseInt(fid, 10, 64)
	if err != nil || id < 1 {
		return 0, notFound(fmt.Sprintf("no incident with id %q: ids are positive whole numbers", fid))
	}
	return id, nil
}

// requireType refuses a body whose Content-Type is not one of types (415).
func requireType(c *fiber.Ctx, types ...string) error {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err == nil {
		for _, t := range types {
			if mt == t {
				return nil
			}
		}
	}
	return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedMediaType,
		Description: fmt.Sprintf("Content-Type %q is not accepted here; send %s", c.Get(fiber.HeaderContentType), strings.Join(types, " or "))}
}

func invalidBody(format string, a ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidBody, Description: fmt.Sprintf(format, a...)}
}

// writableProp says whether a written Feature may carry the property name:
// any property of the field table. updated_at is set by the store and
// ignored; anything else is refused, so that a misspelt property is an
// error, not a silently dropped value.
func writableProp(name string) bool { return incident.PropIndex(name) >= 0 }

// decodeFeature reads an incident from a GeoJSON Feature document with the
// importer's decoder (one read of the body, the same rules as an import).
// wantID, when not 0, is the id of the URL: a Feature that names another id
// is refused.
func decodeFeature(body []byte, wantID int64) (incident.Incident, error) {
	f, err := importer.DecodeFeature(body)
	if !f.Object {
		return incident.Incident{}, invalidBody("the request body is not a JSON object: %v", reason(err))
	}
	if f.Type != "Feature" {
		return incident.Incident{}, invalidBody(`the request body must be a GeoJSON Feature ("type": "Feature"), not %q`, f.Type)
	}
	if wantID != 0 && f.ID != "" && f.ID != "null" {
		var n json.Number
		if err := json.Unmarshal([]byte(f.ID), &n); err != nil || n.String() != strconv.FormatInt(wantID, 10) {
			return incident.Incident{}, invalidBody("the Feature's id %s differs from the id %d in the URL", f.ID, wantID)
		}
	}
	if f.Unknown != "" {
		return incident.Incident{}, invalidBody("unknown property %q; see /collections/incidents/queryables for the property names", f.Unknown)
	}
	var fe *incident.FieldError
	if errors.As(err, &fe) && fe.Field == "feature" {
		return incident.Incident{}, invalidBody("the request body is not a valid GeoJSON Feature: %s", fe.Reason)
	}
	if err != nil {
		return f.Incident, fieldError(err)
	}
	return f.Incident, nil
}

// reason is what a decoder's error says, without the field and value it
// names (the value is the body itself).
func reason(err error) string {
	var fe *incident.FieldError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	if err != nil {
		return err.Error()
	}
	return "it is not one"
}

// fieldError turns a data model fault into a 400 that names the field.
func fieldError(err error) error {
	var fe *incident.FieldError
	if errors.As(err, &fe) {
		return invalidBody("property %s", fe.Error())
	}
	return err
}

// writeError maps the store's write faults to responses.
func (h *handlers) writeError(c *fiber.Ctx, err error) error {
	var ce *incident.ConflictError
	if errors.As(err, &ce) {
		c.Set(fiber.HeaderLocation, h.baseURL(c)+"/collections/incidents/items/"+strconv.FormatInt(ce.ID, 10))
		return &Error{Status: http.StatusConflict, Code: CodeConflict,
			Description: fmt.Sprintf("event_id %q is already incident %d (see Location); update that one instead", ce.EventID, ce.ID)}
	}
	return fieldError(err)
}

// featureDoc is the GeoJSON Feature of inc with its links.
func (h *handlers) featureDoc(base string, inc *incident.Incident) ([]byte, error) {
	self := base + "/collections/incidents/items/" + strconv.FormatInt(inc.ID, 10)
	links, err := marshalLinks([]Link{
		{Href: self, Rel: "self", Type: MediaGeoJSON, Title: "this feature"},
		{Href: self + "?f=html", Rel: "alternate", Type: MediaHTML, Title: "this feature as HTML"},
		{Href: base + "/collections/incidents", Rel: "collection", Type: MediaJSON, Title: "the collection"},
		{Href: self + "/history", Rel: "version-history", Type: MediaJSON, Title: "earlier versions"},
	})
	if err != nil {
		return nil, err
	}
	body := geo.AppendFeature(nil, inc)
	// Reopen the Feature object to add its links member.
	body = append(body[:len(body)-1], `,"links":`...)
	return append(append(body, links...), '}'), nil
}

// sendFeature answers a write with the incident as stored and its ETag.
func (h *handlers) sendFeature(c *fiber.Ctx, status int, inc *incident.Incident) error {
	body, err := h.featureDoc(h.baseURL(c), inc)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, featureETag(inc))
	c.Set(fiber.HeaderContentType, MediaGeoJSON)
	return c.Status(status).Send(body)
}

// logWrite records a write with the token that made it.
func (h *handlers) logWrite(c *fiber.Ctx, op string, inc *incident.Incident) {
	h.log.Info("write", "op", op, "id", inc.ID, "event_id", inc.EventID, "token", TokenName(c),
		"request_id", c.GetRespHeader(fiber.HeaderXRequestID), "ip", c.IP())
	h.live.notify()
}

// createItem is POST /collections/incidents/items: a GeoJSON Feature becomes a
// new incident (201, Location, ETag). event_id is required: it is the
// incident's external key, so a retried POST finds its first attempt (409 with
// its Location) instead of making a duplicate. A Feature id is ignored; the
// server assigns ids.
func (h *handlers) createItem(c *fiber.Ctx) error {
	if err := requireType(c, MediaGeoJSON, MediaJSON); err != nil {
		return err
	}
	body, err := readBody(c, int64(h.cfg.BodyLimit))
	if err != nil {
		return err
	}
	inc, err := decodeFeature(body, 0)
	if err != nil {
		return err
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	out, err := h.store.CreateIncident(ctx, inc)
	if err != nil {
		return h.writeError(c, err)
	}
	h.logWrite(c, "created", &out)
	c.Set(fiber.HeaderLocation, h.baseURL(c)+"/collections/incidents/items/"+strconv.FormatInt(out.ID, 10))
	return h.sendFeature(c, http.StatusCreated, &out)
}

// replaceItem is PUT /collections/incidents/items/{id}: the Feature replaces
// the incident whole (absent properties become empty or their defaults).
func (h *handlers) replaceItem(c *fiber.Ctx) error {
	id, err := featureID(c)
	if err != nil {
		return err
	}
	if err := requireType(c, MediaGeoJSON, MediaJSON); err != nil {
		return err
	}
	body, err := readBody(c, int64(h.cfg.BodyLimit))
	if err != nil {
		return err
	}
	inc, err := decodeFeature(body, id)
	if err != nil {
		return err
	}
	return h.update(c, id, "replaced", func(cur incident.Incident) (incident.Incident, error) {
		return inc, nil
	})
}

// patchItem is PATCH /collections/incidents/items/{id} with a JSON merge patch
// (RFC 7396) of the Feature: members present replace, null removes (a removed
// property becomes empty or its default), others stay. application/json is
// read as a merge patch too.
func (h *handlers) patchItem(c *fiber.Ctx) error {
	id, err := featureID(c)
	if err != nil {
		return err
	}
	if err := requireType(c, MediaMergePatch, MediaJSON); err != nil {
		return err
	}
	body, err := readBody(c, int64(h.cfg.BodyLimit))
	if err != nil {
		return err
	}
	var patch any
	if err := json.Unmarshal(body, &patch); err != nil {
		return invalidBody("the merge patch is not valid JSON: %v", err)
	}
	if _, ok := patch.(map[string]any); !ok {
		return invalidBody("a merge patch of a Feature must be a JSON object")
	}
	return h.update(c, id, "patched", func(cur incident.Incident) (incident.Incident, error) {
		var doc any
		if err := json.Unmarshal(geo.AppendFeature(nil, &cur), &doc); err != nil {
			return cur, fmt.Errorf("patch incident %d: %w", id, err)
		}
		rederiveRegion(doc, patch)
		merged, err := json.Marshal(mergePatch(doc, patch))
		if err != nil {
			return cur, fmt.Errorf("patch incident %d: %w", id, err)
		}
		return decodeFeature(merged, id)
	})
}

// rederiveRegion drops the current region from doc when the patch changes
// admin1 but says nothing of region, so that the store derives the region of
// the new governorate instead of keeping the old one.
func rederiveRegion(doc, patch any) {
	pp, _ := patch.(map[string]any)["properties"].(map[string]any)
	if pp == nil {
		return
	}
	if _, admin1 := pp["admin1"]; !admin1 {
		return
	}
	if _, region := pp["region"]; region {
		return
	}
	if dp, ok := doc.(map[string]any)["properties"].(map[string]any); ok {
		delete(dp, "region")
	}
}

// mergePatch applies an RFC 7396 merge patch to target.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// update runs a PUT or PATCH: the If-Match check and the change happen inside
// the store's write transaction, so no other write slips between them.
func (h *handlers) update(c *fiber.Ctx, id int64, op string, change func(incident.Incident) (incident.Incident, error)) error {
	match := c.Get(fiber.HeaderIfMatch)
	ctx, cancel := h.requestContext(c)
	defer cancel()
	out, err := h.store.UpdateIncident(ctx, id, TokenName(c), func(cur incident.Incident) (incident.Incident, error) {
		if err := ifMatch(match, &cur); err != nil {
			return cur, err
		}
		return change(cur)
	})
	if err != nil {
		return h.writeError(c, err)
	}
	h.logWrite(c, op, &out)
	return h.sendFeature(c, http.StatusOK, &out)
}

// deleteItem is DELETE /collections/incidents/items/{id} (204). The deleted
// version stays in the history.
func (h *handlers) deleteItem(c *fiber.Ctx) error {
	id, err := featureID(c)
	if err != nil {
		return err
	}
	match := c.Get(fiber.HeaderIfMatch)
	ctx, cancel := h.requestContext(c)
	defer cancel()
	old, err := h.store.DeleteIncident(ctx, id, TokenName(c), func(cur incident.Incident) error {
		return ifMatch(match, &cur)
	})
	if err != nil {
		return err
	}
	h.logWrite(c, "deleted", &old)
	return c.SendStatus(http.StatusNoContent)
}

// versionJSON is one entry of an incident's history document.
type versionJSON struct {
	Current   bool            `json:"current"`
	Change    string          `json:"change,omitempty"`     // what ended this version: updated or deleted
	ChangedBy string          `json:"changed_by,omitempty"` // the write API token that did it; absent for imports
	ChangedAt string          `json:"changed_at,omitempty"`
	Feature   json.RawMessage `json:"feature"`
}

// itemHistory is GET /collections/incidents/items/{id}/history: the current
// version (when the incident exists) and every earlier one, newest first —
// also for a deleted incident.
func (h *handlers) itemHistory(c *fiber.Ctx) error {
	if _, err := queryValues(c, nil); err != nil {
		return err
	}
	id, err := featureID(c)
	if err != nil {
		return err
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	vs, err := h.store.History(ctx, id)
	if err != nil {
		return err
	}
	doc := struct {
		ID       int64         `json:"id"`
		Deleted  bool          `json:"deleted"`
		Versions []versionJSON `json:"versions"`
		Links    []Link        `json:"links"`
	}{ID: id, Versions: []versionJSON{}}
	cur, err := h.store.Incident(ctx, id)
	switch {
	case err == nil:
		doc.Versions = append(doc.Versions, versionJSON{Current: true, Feature: geo.AppendFeature(nil, &cur)})
	case errors.Is(err, store.ErrNotFound):
		doc.Deleted = true
	default:
		return err
	}
	for _, v := range vs {
		doc.Versions = append(doc.Versions, versionJSON{Change: v.Op, ChangedBy: v.ChangedBy, ChangedAt: v.ChangedAt, Feature: v.Feature})
	}
	self := h.baseURL(c) + "/collections/incidents/items/" + strconv.FormatInt(id, 10)
	doc.Links = []Link{
		{Href: self + "/history", Rel: "self", Type: MediaJSON, Title: "this history"},
		{Href: self, Rel: "latest-version", Type: MediaGeoJSON, Title: "the current version"},
	}
	return sendJSON(c, MediaJSON, doc)
}
