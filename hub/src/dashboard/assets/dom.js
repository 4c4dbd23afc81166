// DOM helpers of the dashboard: elements from plain data (text only, never HTML strings, so nothing an API value
// holds can run as markup), and the formats every page shares. Device names, reasons and versions are whatever a
// device sends (hub/docs/dashboard.md#security): the one way into the page is `h`, which keeps them text.

/** Explicit bidi controls (LRE…RLO, LRI…PDI, marks): text after one is reordered up to the end of its element. */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

/**
 * Links and sources stay on this page or this origin: a `javascript:` or foreign URL never becomes one. Not `//`,
 * `/\` or `/<tab>/`: URL parsing reads each as another host.
 */
const SAME_ORIGIN_URL = /^(#|\/(?![/\\\s]))/;
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'xlink:href']);

function attribute(element, name, value) {
  if (name.startsWith('on')) {
    // A handler is code; a string here would be markup-as-code (an inline handler).
    if (typeof value !== 'function') throw new TypeError(`dashboard: ${name} must be a function`);
    element.addEventListener(name.slice(2), value);
    return;
  }
  const text = value === true ? '' : String(value);
  if (URL_ATTRIBUTES.has(name) && !SAME_ORIGIN_URL.test(text)) throw new TypeError(`dashboard: ${name} must be a same-origin path or #route`);
  element.setAttribute(name, text);
}

/** A text node; text with bidi controls is isolated in a `<bdi>`, so it cannot reorder what follows it. */
function text(value) {
  const node = document.createTextNode(String(value));
  if (!BIDI_CONTROLS.test(node.data)) return node;
  const isolate = document.createElement('bdi');
  isolate.append(node);
  return isolate;
}

/**
 * `h('a', { href: '#/x', class: 'y' }, 'text', child)`: attributes whose value is null/false are left out; `on*`
 * attributes take functions (listeners), URL attributes same-origin values only.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    attribute(element, name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : text(child));
  }
  return element;
}

/** A status as a word with a colour class: readable without colour (issue 11 item 6). */
export function badge(word, kind = word) {
  return h('span', { class: `badge badge-${kind}` }, word);
}

/** A table with a caption (its accessible name) and one row per item; `columns` = [[header, item => cell], …]. */
export function table(caption, columns, items, rowAttributes = () => ({})) {
  return h('table', { class: 'data' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map(([header]) => h('th', { scope: 'col' }, header)))),
    h('tbody', {}, items.map((item) => h('tr', rowAttributes(item), columns.map(([header, cell]) => h('td', { 'data-label': header }, cell(item)))))),
  );
}

/** A headed section. */
export function section(title, ...children) {
  return h('section', { 'aria-label': title }, h('h2', {}, title), ...children);
}

/** Counts as labelled tiles: [[label, value, kind?], …]. */
export function tiles(label, entries) {
  return h('dl', { class: 'tiles', 'aria-label': label },
    entries.map(([name, value, kind]) => h('div', { class: `tile${kind ? ` tile-${kind}` : ''}`, 'data-count': name },
      h('dt', {}, name), h('dd', {}, String(value)))));
}

/** Name/value facts of one thing as a description list: [[name, value], …]. */
export function facts(label, entries) {
  return h('dl', { class: 'facts', 'aria-label': label }, entries.map(([name, value]) => h('div', {}, h('dt', {}, name), h('dd', {}, value))));
}

export function empty(text) {
  return h('p', { class: 'empty' }, text);
}

export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return h('time', { datetime: iso, title: iso }, date.toLocaleString());
}

export function percent(fraction, digits = 1) {
  return fraction === null || fraction === undefined ? '—' : `${(fraction * 100).toFixed(digits)} %`;
}

export function num(value, digits = 1) {
  return value === null || value === undefined ? '—' : Number(value).toFixed(digits);
}

/** A progress bar with its numbers as text (a `<progress>` is announced by screen readers). */
export function progress(label, done, total) {
  return h('div', { class: 'progress' },
    h('progress', { max: Math.max(total, 1), value: done, 'aria-label': label }),
    h('span', {}, `${label}: ${done}/${total}`));
}
