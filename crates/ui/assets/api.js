// The HTTP API client: ?dc=, the ACL token, Consul's plain-text errors.

const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;

/** Where the UI is served (`/ui/`). */
export const contentPath = meta('praetor-content-path');
/** This agent's datacenter. */
export const agentDc = meta('praetor-datacenter');

const TOKEN_KEY = 'praetor:token';

/** The datacenter shown and the token sent; both change from the header. */
export const session = {
  dc: agentDc,
  token: readToken(),
};

function readToken() {
  try { return localStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

export function setToken(token) {
  session.token = token;
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token); else localStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: keep it for this page only */ }
}

/** A non-2xx answer: `status` and Consul's plain-text `body`. */
export class ApiError extends Error {
  constructor(method, path, status, statusText, body) {
    super(`${method} /v1/${path}: ${status} ${body || statusText}`);
    this.status = status;
    this.statusText = statusText;
    this.body = body;
  }
}

/** Encodes a KV key or any path argument segment by segment, keeping its slashes. */
export function encodePath(p) {
  return p.split('/').map(encodeURIComponent).join('/');
}

/**
 * One API call. `params` values: `true` for presence flags (`?recurse`), else strings.
 * With `allow404`, a 404 is an answer with `data: null` (a missing KV key), not an error.
 * Resolves to `{data, index, status}`.
 */
export async function request(method, path, {params = {}, body, signal, allow404 = false} = {}) {
  const url = new URL(`/v1/${path}`, window.location.origin);
  if (session.dc && session.dc !== agentDc) url.searchParams.set('dc', session.dc);
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === false) continue;
    url.searchParams.set(k, v === true ? '' : String(v));
  }
  const headers = {};
  if (session.token) headers['X-Consul-Token'] = session.token;
  const resp = await fetch(url, {method, headers, body, signal, cache: 'no-store', credentials: 'same-origin'});
  const text = await resp.text();
  const index = Number(resp.headers.get('X-Consul-Index') || 0);
  if (resp.status === 404 && allow404) return {data: null, index, status: 404};
  if (!resp.ok) throw new ApiError(method, path, resp.status, resp.statusText, text.trim());
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  return {data, index, status: resp.status};
}
