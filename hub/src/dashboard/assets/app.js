// The dashboard's entry module: hash routing over one HTML shell, the admin-token form, and live re-rendering of
// the page on the hub events it cares about (hub/docs/dashboard.md).
import { ApiError, getToken, setToken, TokenRequired } from './api.js';
import { h } from './dom.js';
import { debounce, LiveEvents } from './live.js';
import { alertsPage } from './pages/alerts.js';
import { devicePage } from './pages/device.js';
import { devicesPage } from './pages/devices.js';
import { modelPage, modelsPage } from './pages/models.js';
import { overviewPage } from './pages/overview.js';
import { rolloutPage, rolloutsPage } from './pages/rollouts.js';
import { roundPage, roundsPage } from './pages/rounds.js';

/** [pattern, page]: the first pattern matching the hash path wins; `:id` is a path parameter. */
const ROUTES = [
  ['/', overviewPage], ['/devices', devicesPage], ['/devices/:id', devicePage], ['/rounds', roundsPage],
  ['/rounds/:id', roundPage], ['/models', modelsPage], ['/models/:id', modelPage], ['/rollouts', rolloutsPage],
  ['/rollouts/:id', rolloutPage], ['/alerts', alertsPage],
];

/** Re-render this long after the last event of a burst (telemetry arrives every heartbeat from every device). */
const LIVE_DEBOUNCE_MS = 400;

const main = document.getElementById('main');
const liveState = document.getElementById('live-state');
const live = new LiveEvents((state) => {
  liveState.textContent = state;
  liveState.dataset.state = state;
});

function route() {
  const [path, search = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = (path || '/').split('/').filter(Boolean);
  const params = Object.fromEntries(new URLSearchParams(search));
  for (const [pattern, page] of ROUTES) {
    const want = pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const found = want.every((segment, i) => segment.startsWith(':') || segment === parts[i]);
    if (!found) continue;
    // A hash is whatever a link or a person typed: a segment that is not valid percent-encoding names no page.
    const values = want.map((segment, i) => (segment.startsWith(':') ? decodeSegment(parts[i]) : segment));
    if (values.includes(undefined)) continue;
    want.forEach((segment, i) => {
      if (segment.startsWith(':')) params[segment.slice(1)] = values[i];
    });
    return { page, params, path: `/${want[0] ?? ''}` };
  }
  return { page: null, params, path };
}

/** `decodeURIComponent`, or undefined for a malformed escape (`%E0%A4%A`). */
function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function markNavigation(path) {
  for (const link of document.querySelectorAll('#nav a')) {
    link.toggleAttribute('aria-current', link.getAttribute('href') === `#${path}`);
    if (link.hasAttribute('aria-current')) link.setAttribute('aria-current', 'page');
  }
}

function tokenForm(message) {
  const input = h('input', { id: 'token', name: 'token', type: 'password', required: true, autocomplete: 'current-password' });
  const form = h('form', { class: 'token-form', 'aria-label': 'Admin token' },
    h('h2', {}, 'Admin token'),
    h('p', {}, message),
    h('label', { for: 'token' }, 'Admin token (from the hub\'s data directory, admin.token, or FEDFLEET_ADMIN_TOKEN)'),
    input,
    h('button', { type: 'submit' }, 'Open the dashboard'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    live.connect(getToken());
    void render();
  });
  return form;
}

let current = null;
let rendering = 0;

/** Renders the page of the hash; a later render supersedes an earlier one still fetching. */
async function render() {
  const ticket = ++rendering;
  const { page, params, path } = route();
  current = page ? { page, params } : null;
  markNavigation(path);
  if (!getToken()) return main.replaceChildren(tokenForm('Enter the admin token once; this browser keeps it.'));
  if (!page) return main.replaceChildren(h('p', { role: 'alert' }, `No page ${location.hash}.`));
  document.title = `${page.title} · fedfleet`;
  try {
    const view = await page.render(params, () => void render());
    if (ticket === rendering) main.replaceChildren(view);
  } catch (error) {
    if (ticket !== rendering) return;
    if (error instanceof TokenRequired) {
      live.close();
      return main.replaceChildren(tokenForm(error.message));
    }
    const text = error instanceof ApiError ? `${error.code}: ${error.message}` : `Could not load: ${error.message}`;
    main.replaceChildren(h('p', { class: 'error', role: 'alert' }, text));
  }
}

const rerender = debounce(() => void render(), LIVE_DEBOUNCE_MS);
live.subscribe((name, payload) => {
  if (current?.page.refreshOn?.(name, payload, current.params)) rerender();
});

document.getElementById('forget-token').addEventListener('click', () => {
  setToken(null);
  live.close();
  void render();
});
window.addEventListener('hashchange', () => void render());
live.connect(getToken());
void render();
