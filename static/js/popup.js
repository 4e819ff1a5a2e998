// popup.js: the incident popup, built from text nodes only.

import { el } from "./dom.js";
import { t, tType } from "./i18n.js";

/** popup returns the popup content of a GeoJSON incident feature. */
export function popup(f) {
  const p = f.properties;
  const box = el("div", "popup");
  box.append(el("h2", "", p.location || p.admin1 || t("incident")));
  const dl = el("dl");
  const row = (k, v) => { if (v !== "" && v !== null && v !== undefined) dl.append(el("dt", "", k), el("dd", "", v)); };
  row(t("date"), `${p.event_date} (${t("precision")[p.time_precision] || t("precisionUnknown")})`);
  row(t("type"), p.sub_event_type ? `${tType(p.event_type)} — ${p.sub_event_type}` : tType(p.event_type));
  row(t("actors"), [p.actor1, p.actor2].filter(Boolean).join(" → "));
  row(t("place"), [p.location, p.admin2, p.admin1].filter(Boolean).join(", ") + ` (${t("geoPrecision")[p.geo_precision] || ""})`);
  row(t("region"), p.region);
  row(t("fatalities"), p.fatalities);
  row(t("notes"), p.notes);
  if (p.source) {
    const dd = el("dd", "", p.source);
    if (/^https?:\/\//i.test(p.source_url || "")) {
      const a = el("a", "", t("link"));
      a.href = p.source_url;
      a.rel = "noopener noreferrer";
      a.target = "_blank";
      dd.append(" ", a);
    }
    dl.append(el("dt", "", t("source")), dd);
  }
  row(t("id"), `${f.id} (${p.event_id})`);
  box.append(dl);
  return box;
}
