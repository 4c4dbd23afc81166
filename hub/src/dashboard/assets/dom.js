// DOM helpers of the dashboard: elements from plain data (text only, never HTML strings, so nothing an API value
// holds can run as markup), and the formats every page shares.

/**
 * `h('a', { href: '#/x', class: 'y' }, 'text', child)`: attributes whose value is null/false are left out; `on*`
 * attributes given a function become listeners.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
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
