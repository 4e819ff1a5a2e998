// i18n.js: the page's words in English and Arabic, and the text direction.
// The language is the ?lang= / #lang= choice, else the browser's first
// language that the catalogue has, else English. Arabic lays the page out
// right to left (dir="rtl" on <html>).

const CATALOGUE = {
  en: {
    title: "incidentmap · security incidents in Iraq",
    loading: "Loading…", filters: "Filters", panel: "Filters, charts and downloads",
    time: "Time", from: "From", to: "To", play: "▶ Play", stop: "■ Stop", playTitle: "Animate the time range through the data",
    last24h: "24 h", last7d: "7 d", last30d: "30 d", last1y: "1 y", all: "All",
    presetsLabel: "Relative ranges (stay relative in a shared link)",
    eventType: "Event type", placeToll: "Place and toll", region: "Region", allRegions: "All regions",
    atLeast: "At least", killed: "killed", text: "Text", textHint: "actors, notes, place, source",
    actor: "Actor", clearActor: "Remove the actor filter",
    regions: "Regions", shadeBy: "Shade regions by", shadeNone: "nothing (outlines)",
    shadeIncidents: "incidents", shadeFatalities: "fatalities", clear: "Clear filters",
    shadeIncidentsKm2: "incidents per 1,000 km²", shadeFatalitiesKm2: "fatalities per 1,000 km²", perKm2: "per 1,000 km²",
    download: "Download", downloadView: "What is in view", downloadAll: "All matching",
    ogcHint: "The same data is an OGC API – Features service for QGIS, ArcGIS and GDAL:", collections: "collections",
    about: "About these data", map: "Map of incidents", language: "Language",
    focusRegions: "Focus regions", otherGovernorates: "Other governorates", krGovernorates: "Kurdistan Region governorates",
    incidents: (n) => `${n} incident${n === "1" ? "" : "s"}`,
    countLine: (n, k) => `${n} incident${n === "1" ? "" : "s"}, ${k} killed`,
    firstOf: (n, m) => ` (first ${n} of ${m}: filter to see all)`,
    tileLine: (n) => `${n} incident${n === "1" ? "" : "s"} (shown as clusters from the server)`,
    tileTitle: "Too many to send one by one: the map draws the server's clusters. Filter to see single markers and the killed total.",
    error: "Error: ", noLibrary: "The map library did not load (build the page with `make assets`).",
    incident: "Incident", date: "Date", type: "Type", actors: "Actors", place: "Place", fatalities: "Fatalities",
    notes: "Notes", source: "Source", id: "Id", link: "link",
    precision: { 1: "exact day", 2: "within the week", 3: "within the month" }, precisionUnknown: "precision unknown",
    geoPrecision: { 1: "exact place", 2: "near this place", 3: "region only" },
    clusterHere: (n) => `${n} incidents here; filter to see them one by one.`,
    legendTitle: (what) => `${what} per governorate (time and type filters)`,
    orMore: (b) => `${b} or more`, regionTip: (n, k) => `${n} incidents, ${k} killed`,
    plain: "Plain (no basemap)", basemap: "Basemap (offline)", onlineTiles: "Online map tiles",
    tilesOff: "Online tiles are off: start the server with --tiles URL (see the README).",
    layerIncidents: "Incidents", layerRegions: "Region outlines", layerHeat: "Heatmap", layerLabels: "Place names",
    timeline: "Timeline", timelineHint: "Drag across the bars to choose dates (or arrow keys, Shift+arrows to widen); Escape clears.",
    perDay: "day", perWeek: "week", perMonth: "month", bucket: "Bars per",
    charts: "Charts", byType: "By event type", byRegion: "By region", topActors: "Top actors",
    facetHint: "Click a bar to filter; click again to remove it.",
    list: "In view", inView: (n) => `${n} in view`, inViewOf: (n, m) => `${n} in view (first ${m} listed)`,
    sortDate: "Newest first", sortToll: "Highest toll first", sortBy: "Sort",
    listTiles: "Zoom in to list the incidents: too many in view.",
    killedShort: (k) => `${k} killed`, openList: "List",
    language_en: "English", language_ar: "العربية",
  },
  ar: {
    title: "خريطة الحوادث · الحوادث الأمنية في العراق",
    loading: "جارٍ التحميل…", filters: "المرشحات", panel: "المرشحات والرسوم البيانية والتنزيلات",
    time: "الوقت", from: "من", to: "إلى", play: "▶ تشغيل", stop: "■ إيقاف", playTitle: "تحريك الفترة الزمنية عبر البيانات",
    last24h: "٢٤ ساعة", last7d: "٧ أيام", last30d: "٣٠ يومًا", last1y: "سنة", all: "الكل",
    presetsLabel: "فترات نسبية (تبقى نسبية في الرابط المشترك)",
    eventType: "نوع الحدث", placeToll: "المكان والضحايا", region: "المنطقة", allRegions: "كل المناطق",
    atLeast: "على الأقل", killed: "قتلى", text: "نص", textHint: "الأطراف، الملاحظات، المكان، المصدر",
    actor: "الطرف", clearActor: "إزالة مرشح الطرف",
    regions: "المناطق", shadeBy: "تلوين المناطق حسب", shadeNone: "لا شيء (الحدود فقط)",
    shadeIncidents: "الحوادث", shadeFatalities: "القتلى", clear: "مسح المرشحات",
    shadeIncidentsKm2: "الحوادث لكل ١٬٠٠٠ كم²", shadeFatalitiesKm2: "القتلى لكل ١٬٠٠٠ كم²", perKm2: "لكل ١٬٠٠٠ كم²",
    download: "تنزيل", downloadView: "ما يظهر في الخريطة", downloadAll: "كل ما يطابق",
    ogcHint: "البيانات نفسها خدمة OGC API – Features لبرامج QGIS وArcGIS وGDAL:", collections: "المجموعات",
    about: "عن هذه البيانات", map: "خريطة الحوادث", language: "اللغة",
    focusRegions: "مناطق التركيز", otherGovernorates: "محافظات أخرى", krGovernorates: "محافظات إقليم كردستان",
    incidents: (n) => `${n} حادثة`,
    countLine: (n, k) => `${n} حادثة، ${k} قتيل`,
    firstOf: (n, m) => ` (أول ${n} من ${m}: استخدم المرشحات لرؤية الكل)`,
    tileLine: (n) => `${n} حادثة (معروضة كتجمعات من الخادم)`,
    tileTitle: "العدد كبير جدًا لإرساله حادثةً حادثة: تعرض الخريطة تجمعات الخادم. استخدم المرشحات لرؤية العلامات المفردة ومجموع القتلى.",
    error: "خطأ: ", noLibrary: "لم تُحمَّل مكتبة الخريطة (ابنِ الصفحة بالأمر make assets).",
    incident: "حادثة", date: "التاريخ", type: "النوع", actors: "الأطراف", place: "المكان", fatalities: "القتلى",
    notes: "ملاحظات", source: "المصدر", id: "المعرّف", link: "رابط",
    precision: { 1: "اليوم بالضبط", 2: "خلال الأسبوع", 3: "خلال الشهر" }, precisionUnknown: "الدقة غير معروفة",
    geoPrecision: { 1: "المكان بالضبط", 2: "قرب هذا المكان", 3: "المنطقة فقط" },
    clusterHere: (n) => `${n} حادثة هنا؛ استخدم المرشحات لرؤيتها واحدةً واحدة.`,
    legendTitle: (what) => `${what} لكل محافظة (مرشحا الوقت والنوع)`,
    orMore: (b) => `${b} أو أكثر`, regionTip: (n, k) => `${n} حادثة، ${k} قتيل`,
    plain: "بدون خريطة أساس", basemap: "خريطة الأساس (دون اتصال)", onlineTiles: "بلاطات خريطة عبر الإنترنت",
    tilesOff: "البلاطات عبر الإنترنت معطلة: شغّل الخادم مع --tiles URL (انظر README).",
    layerIncidents: "الحوادث", layerRegions: "حدود المناطق", layerHeat: "خريطة حرارية", layerLabels: "أسماء الأماكن",
    timeline: "الخط الزمني", timelineHint: "اسحب عبر الأعمدة لاختيار التواريخ (أو مفاتيح الأسهم، وShift مع الأسهم للتوسيع)؛ Escape للمسح.",
    perDay: "يوم", perWeek: "أسبوع", perMonth: "شهر", bucket: "عمود لكل",
    charts: "رسوم بيانية", byType: "حسب نوع الحدث", byRegion: "حسب المنطقة", topActors: "أكثر الأطراف",
    facetHint: "انقر على عمود للترشيح؛ انقر مرة أخرى لإزالته.",
    list: "في العرض", inView: (n) => `${n} في العرض`, inViewOf: (n, m) => `${n} في العرض (أول ${m} مدرجة)`,
    sortDate: "الأحدث أولًا", sortToll: "الأكثر ضحايا أولًا", sortBy: "ترتيب",
    listTiles: "كبّر الخريطة لعرض القائمة: الحوادث في العرض كثيرة جدًا.",
    killedShort: (k) => `${k} قتيل`, openList: "القائمة",
    language_en: "English", language_ar: "العربية",
  },
};

const TYPES_AR = {
  "Battles": "معارك",
  "Explosions/Remote violence": "انفجارات/عنف عن بعد",
  "Violence against civilians": "عنف ضد المدنيين",
  "Protests": "احتجاجات",
  "Riots": "أعمال شغب",
  "Strategic developments": "تطورات استراتيجية",
};

/** t returns the string key in the page's language (a function's result with args). */
export function t(key, ...args) {
  const v = CATALOGUE[t.lang]?.[key] ?? CATALOGUE.en[key];
  if (typeof v === "function") return v(...args);
  return v === undefined ? key : v;
}
t.lang = "en";

/** tType is an event type's name in the page's language. */
export const tType = (ty) => (t.lang === "ar" && TYPES_AR[ty]) || ty;

/** LANGUAGES lists the languages the catalogue has. */
export const LANGUAGES = Object.keys(CATALOGUE);

/** chooseLanguage picks the language: an explicit choice, else the browser's. */
export function chooseLanguage(explicit) {
  if (LANGUAGES.includes(explicit)) return explicit;
  for (const l of navigator.languages || [navigator.language || "en"]) {
    const base = String(l).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

/**
 * setLanguage switches the page's words and direction: every element with
 * data-i18n gets its text, data-i18n-attr="attr:key,…" its attributes.
 */
export function setLanguage(lang) {
  t.lang = LANGUAGES.includes(lang) ? lang : "en";
  const root = document.documentElement;
  root.lang = t.lang;
  root.dir = t.lang === "ar" ? "rtl" : "ltr";
  document.title = t("title");
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of e.dataset.i18nAttr.split(",")) {
      const [attr, key] = pair.split(":");
      e.setAttribute(attr, t(key));
    }
  }
}
