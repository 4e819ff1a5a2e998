// dom.js: the two DOM helpers every module uses. Values from the data are
// always set as text (textContent), never parsed as HTML.

/** $ returns the element with the given id. */
export const $ = (id) => document.getElementById(id);

/** el creates an element with an optional class and text. */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

/** fmt writes a number with thousands separators, the same in every language. */
export const fmt = (n) => Number(n || 0).toLocaleString("en");
