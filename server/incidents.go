package server

import (
	"context"
	"incidentmap/crs"
)

// incidentsCollection is the registry entry of the incidents.
func (h *handlers) incidentsCollection() collection {
	return collection{
		ID:    "incidents",
		Title: "Security incidents",
		Description: "Security incidents (ACLED-style events): a point, a date, the event type, the actors, " +
			"the fatalities and the source.",
		Extent:      h.incidentsExtent,
		Queryables:  incidentQueryables,
		CRS:         crs.URIs(),
		ItemsParams: itemsParamDefs,
		Items:       h.items,
		Item:        h.item,
	}
}

// incidentsExtent computes the incidents' extent from the data.
func (h *handlers) incidentsExtent(ctx context.Context) (extent, error) {
	e, err := h.store.Extent(ctx)
	if err != nil {
		return extent{}, err
	}
	if e.Count == 0 {
		return extent{}, nil
	}
	b := e.BBox
	return extent{BBox: &b, Start: e.FirstDate + "T00:00:00Z", End: e.LastDate + "T23:59:59Z"}, nil
}
