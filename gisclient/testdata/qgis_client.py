"""Load incidentmap's incidents in QGIS (headless) as an OGC API - Features layer.

Usage: QT_QPA_PLATFORM=offscreen qgis_client.py BASE_URL MINX MINY MAXX MAXY SUBSET
Prints one JSON object with what QGIS saw; the Go test asserts on it.
"""
import json
import os
import sys

from qgis.core import (QgsApplication, QgsFeatureRequest, QgsRectangle,
                       QgsVectorLayer)


def main():
    base, box, subset = sys.argv[1], [float(v) for v in sys.argv[2:6]], sys.argv[6]
    app = QgsApplication([], False)
    app.initQgis()
    out = {}
    try:
        uri = f"url='{base}' typename='incidents' pageSize='1000'"
        layer = QgsVectorLayer(uri, "incidents", "OAPIF")
        out["valid"] = layer.isValid()
        if not layer.isValid():
            out["error"] = layer.error().summary()
            return out
        out["featureCount"] = layer.featureCount()
        out["fields"] = {f.name(): f.typeName() for f in layer.fields()}
        out["geometryType"] = layer.wkbType()
        out["crs"] = layer.crs().authid()
        ids = [f.id() for f in layer.getFeatures()]
        out["iterated"] = len(ids)
        out["distinct"] = len(set(ids))
        req = QgsFeatureRequest().setFilterRect(QgsRectangle(*box))
        out["bbox"] = sorted(f.id() for f in layer.getFeatures(req))
        layer.setSubsetString(subset)
        out["subset"] = sorted(f.id() for f in layer.getFeatures())
        out["subsetCount"] = layer.featureCount()
    except Exception as e:  # reported, so the Go test shows what broke
        out["error"] = repr(e)
    return out


if __name__ == "__main__":
    json.dump(main(), sys.stdout)
    sys.stdout.flush()
    # QGIS 3.22 can crash tearing down its providers at exit; the result is
    # out already, so leave without the teardown.
    os._exit(0)
