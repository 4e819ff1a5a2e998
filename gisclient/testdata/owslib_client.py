"""Drive OWSLib's OGC API - Features client against a running incidentmap.

Usage: owslib_client.py BASE_URL
Prints one JSON object with what OWSLib saw; the Go test asserts on it.
Each step records its result or the error OWSLib raised, so one failing step
does not hide the others.
"""
import json
import sys

from owslib.ogcapi.features import Features


def ids(fc):
    return [f["id"] for f in fc["features"]]


def main():
    base = sys.argv[1].rstrip("/") + "/"
    w = Features(base, timeout=30)
    out = {}

    def step(name, fn):
        try:
            out[name] = fn()
        except Exception as e:  # OWSLib raises RuntimeError(response text)
            out[name] = {"error": str(e)}

    step("conformance", lambda: w.conformance()["conformsTo"])
    step("collections", lambda: sorted(w.feature_collections()))
    step("queryables", lambda: sorted(w.collection_queryables("incidents")["properties"]))
    step("api_has_items", lambda: "/collections/incidents/items" in w.api()["paths"])

    def items(**kw):
        fc = w.collection_items("incidents", **kw)
        return {"ids": ids(fc), "numberMatched": fc.get("numberMatched")}

    step("bbox", lambda: items(bbox=[43.5, 35.9, 44.5, 36.5], limit=100))
    step("datetime", lambda: items(datetime="2021-01-01/2021-12-31", limit=100))
    step("limit", lambda: items(limit=2))
    step("filter_text", lambda: items(filter="fatalities >= 3 AND event_type = 'Explosions/Remote violence'", limit=100))
    step("cql_json", lambda: items(cql={"op": "=", "args": [{"property": "event_type"}, "Riots"]}, limit=100))
    step("item", lambda: w.collection_item("incidents", "4")["properties"]["event_id"])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
