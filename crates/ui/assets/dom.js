// Small DOM helpers: elements are built with h(), never from HTML strings, so data from
// the API can never turn into markup.

/** h('a', {href: 'x', class: 'y', onclick: f}, 'text', child, [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Replaces every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

export const STATUSES = ['passing', 'warning', 'critical'];

/** Worst of a list of check statuses: critical > warning > passing. */
export function worst(statuses) {
  if (statuses.includes('critical')) return 'critical';
  if (statuses.includes('warning')) return 'warning';
  return 'passing';
}

/** A coloured status badge; the word is always shown, colour is never the only cue. */
export function badge(status) {
  return h('span', {class: `badge ${status}`}, status);
}

/** Passing / warning / critical counts as three small badges. */
export function summary(counts) {
  const parts = STATUSES.filter((s) => counts[s] > 0)
    .map((s) => h('span', {class: `count ${s}`, title: `${counts[s]} ${s}`},
      h('span', {class: 'dot', 'aria-hidden': 'true'}), `${counts[s]} ${s}`));
  return h('span', {class: 'summary'}, parts.length ? parts : h('span', {class: 'muted'}, 'no checks'));
}

/** Counts of statuses in a list of checks. */
export function countChecks(checks) {
  const counts = {passing: 0, warning: 0, critical: 0};
  for (const c of checks) counts[c.Status] = (counts[c.Status] || 0) + 1;
  return counts;
}

export function tags(list) {
  if (!list || !list.length) return h('span', {class: 'muted'}, '—');
  return h('span', {class: 'tags'}, list.map((t) => h('span', {class: 'tag'}, t)));
}

/** A definition list of a string map (node or service meta). */
export function metaList(map) {
  const entries = Object.entries(map || {}).sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) return h('p', {class: 'muted'}, 'None');
  return h('dl', {class: 'meta'}, entries.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v === '' ? '""' : v)]));
}

/** The checks of a node or instance, each with status, output and notes. */
export function checkList(checks) {
  if (!checks.length) return h('p', {class: 'muted'}, 'No checks');
  const order = {critical: 0, warning: 1, passing: 2};
  const sorted = [...checks].sort((a, b) => (order[a.Status] ?? 3) - (order[b.Status] ?? 3)
    || a.Name.localeCompare(b.Name));
  return h('ul', {class: 'checks'}, sorted.map((c) => h('li', {class: `check ${c.Status}`, 'data-check-id': c.CheckID},
    h('div', {class: 'check-head'}, badge(c.Status), h('strong', {}, c.Name),
      h('span', {class: 'muted'}, ` ${c.CheckID}${c.Type ? ` · ${c.Type}` : ''}${c.ServiceID ? '' : ' · node check'}`)),
    c.Notes ? h('p', {class: 'notes'}, c.Notes) : null,
    c.Output ? h('pre', {class: 'output'}, c.Output) : h('p', {class: 'muted'}, 'No output'))));
}

/** Asks a yes/no question in the page's modal dialog; resolves true on "Delete". */
export function confirmDialog(text, okLabel = 'Delete') {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), {once: true});
    dialog.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

/** The plain text of an error for display. */
export function errorText(e) {
  return e && e.status ? `${e.status} ${e.body || e.statusText || ''}`.trim() : String(e && e.message || e);
}
