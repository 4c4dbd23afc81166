// The admin-token HTTP API as the dashboard calls it. The token is entered once and kept in localStorage; a 401
// forgets it and asks again (TokenRequired). A 404 of a whole capability (an older hub) is NotAvailable, which a
// page shows as "not available" instead of failing.

const TOKEN_KEY = 'fedfleet.adminToken';

export class TokenRequired extends Error {
  constructor(message = 'enter the admin token') {
    super(message);
    this.name = 'TokenRequired';
  }
}

export class NotAvailable extends Error {
  constructor(path) {
    super(`${path} is not available on this hub`);
    this.name = 'NotAvailable';
  }
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export function getToken() {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** `GET`s (or sends) JSON with the admin token; errors are the hub's `{ error: { code, message } }`. */
export async function api(method, path, body) {
  const token = getToken();
  if (!token) throw new TokenRequired();
  const response = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 401) {
    setToken(null);
    throw new TokenRequired('the hub refused the admin token; enter it again');
  }
  const json = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.ok) return json;
  const code = json?.error?.code ?? 'HUB_ERR_UNKNOWN';
  // No such route: the capability is not on this hub (HUB_ERR_NOT_FOUND is the router's code, not a resource's).
  if (response.status === 404 && code === 'HUB_ERR_NOT_FOUND') throw new NotAvailable(path.split('?')[0]);
  throw new ApiError(response.status, code, json?.error?.message ?? `${method} ${path}: ${response.status}`);
}

export const get = (path) => api('GET', path);

/** `get`, or `fallback` when the route is not on this hub. */
export async function getOptional(path, fallback) {
  try {
    return await get(path);
  } catch (error) {
    if (error instanceof NotAvailable) return fallback;
    throw error;
  }
}

/** A query string of the defined, non-empty values. */
export function query(params) {
  const search = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  const text = search.toString();
  return text ? `?${text}` : '';
}
