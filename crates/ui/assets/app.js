// The application shell: routing under the content path, the datacenter switcher, the
// token field, and the error banner. Views live in services.js, nodes.js and kv.js.

import {contentPath, agentDc, session, setToken, request} from './api.js';
import {h, replace, errorText} from './dom.js';
import {Scope} from './live.js';
import {servicesView, serviceView} from './services.js';
import {nodesView, nodeView} from './nodes.js';
import {kvView} from './kv.js';

const main = document.getElementById('main');
const banner = document.getElementById('error');
const dcSelect = document.getElementById('dc');
let scope = null;
const errors = new Map();

/** Shows (or with `err` null, clears) the error of one source in the banner. */
function reportError(err, source) {
  if (err) errors.set(source, errorText(err)); else errors.delete(source);
  if (!errors.size) { banner.hidden = true; banner.replaceChildren(); return; }
  replace(banner, h('strong', {}, 'The API answered with an error: '),
    [...errors.entries()].map(([src, text]) => h('div', {}, h('code', {}, `/v1/${src.replace(/^\/v1\//, '')}`), ' — ', text)));
  banner.hidden = false;
}

/** The app path for `dc` and `rest` (`dc1`, `services/web`) as an href under the base. */
export function href(...parts) {
  return parts.join('/');
}

/** Navigates within the app without a reload. */
export function navigate(path, {replaceState = false} = {}) {
  const url = new URL(path, document.baseURI);
  if (replaceState) history.replaceState(null, '', url); else history.pushState(null, '', url);
  render();
}

function route() {
  const url = new URL(window.location.href);
  let rel = url.pathname.startsWith(contentPath) ? url.pathname.slice(contentPath.length) : '';
  if (rel === 'index.html') rel = '';
  const [dcRaw = '', section = '', ...rest] = rel.split('/');
  return {dc: decodeURIComponent(dcRaw), section, rest, query: url.searchParams};
}

function render() {
  if (scope) scope.stop();
  errors.clear();
  reportError(null, '');
  const r = route();
  if (!r.dc) return navigate(href(encodeURIComponent(session.dc || agentDc), 'services'), {replaceState: true});
  if (!r.section) return navigate(href(encodeURIComponent(r.dc), 'services'), {replaceState: true});
  session.dc = r.dc;
  syncHeader(r);
  scope = new Scope(reportError);
  const ctx = {dc: r.dc, scope, navigate, query: r.query, base: encodeURIComponent(r.dc)};
  main.replaceChildren();
  const name = r.rest.map(decodeURIComponent).join('/');
  if (r.section === 'services' && !name) servicesView(main, ctx);
  else if (r.section === 'services') serviceView(main, ctx, name);
  else if (r.section === 'nodes' && !name) nodesView(main, ctx);
  else if (r.section === 'nodes') nodeView(main, ctx, name);
  else if (r.section === 'kv') kvView(main, ctx, name);
  else {
    document.title = 'Not found · Praetor';
    replace(main, h('h1', {}, 'Page not found'),
      h('p', {}, 'There is nothing at this address. ', h('a', {href: href(ctx.base, 'services')}, 'Go to services')));
  }
}

function syncHeader(r) {
  const base = encodeURIComponent(r.dc);
  document.getElementById('brand').setAttribute('href', href(base, 'services'));
  for (const s of ['services', 'nodes', 'kv']) {
    const a = document.getElementById(`nav-${s}`);
    a.setAttribute('href', href(base, s) + (s === 'kv' ? '/' : ''));
    if (s === r.section) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (![...dcSelect.options].some((o) => o.value === r.dc)) dcSelect.append(h('option', {value: r.dc}, r.dc));
  dcSelect.value = r.dc;
}

async function loadDatacenters() {
  try {
    const {data} = await request('GET', 'catalog/datacenters');
    const dcs = new Set([...(data || []), session.dc]);
    replace(dcSelect, [...dcs].map((dc) => h('option', {value: dc}, dc)));
    dcSelect.value = session.dc;
  } catch (err) {
    reportError(err, 'catalog/datacenters');
  }
}

// Same-origin links under the content path are app routes: no reload.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, document.baseURI);
  if (url.origin !== window.location.origin || !url.pathname.startsWith(contentPath) || url.hash) return;
  e.preventDefault();
  navigate(url.href);
  main.focus({preventScroll: false});
});

window.addEventListener('popstate', render);

dcSelect.addEventListener('change', () => {
  const r = route();
  navigate(href(encodeURIComponent(dcSelect.value), r.section || 'services') + (r.section === 'kv' ? '/' : ''));
});

const tokenInput = document.getElementById('token');
tokenInput.value = session.token;
document.getElementById('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setToken(tokenInput.value.trim());
  render();
});

loadDatacenters();
render();
