// Services: the list with health summaries, search and a health filter; one service's
// instances with their checks.

import {request} from './api.js';
import {h, replace, badge, summary, countChecks, worst, tags, metaList, checkList, STATUSES} from './dom.js';

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool(items, limit, fn) {
  const queue = [...items];
  await Promise.all(Array.from({length: Math.min(limit, queue.length)}, async () => {
    while (queue.length) await fn(queue.shift());
  }));
}

/** `/ui/<dc>/services` */
export function servicesView(main, ctx) {
  document.title = 'Services · Praetor';
  const search = h('input', {id: 'service-search', type: 'search', placeholder: 'Name or tag', value: ctx.query.get('q') || ''});
  const health = h('select', {id: 'service-health'},
    h('option', {value: ''}, 'Any health'), STATUSES.map((s) => h('option', {value: s}, s)));
  health.value = ctx.query.get('status') || '';
  const body = h('div', {class: 'list-body', 'aria-live': 'polite'}, h('p', {class: 'muted'}, 'Loading…'));
  replace(main,
    h('h1', {}, 'Services'),
    h('form', {class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault()},
      h('label', {}, 'Search ', search), h('label', {}, 'Health ', health)),
    body);

  let services = null;   // name → tags, from /catalog/services
  let checks = [];       // every check, from /health/state/any
  const instances = new Map();  // name → [{Node, ServiceID}]

  const draw = () => {
    if (!services) return;
    const q = search.value.trim().toLowerCase();
    const want = health.value;
    const rows = Object.keys(services).sort().map((name) => {
      const inst = instances.get(name) || [];
      const nodes = new Set(inst.map((i) => i.Node));
      const relevant = checks.filter((c) => (c.ServiceName === name && nodes.has(c.Node))
        || (!c.ServiceID && nodes.has(c.Node)));
      const counts = countChecks(relevant);
      return {name, tags: services[name] || [], count: inst.length, counts, status: worst(relevant.map((c) => c.Status))};
    }).filter((r) => (!q || r.name.toLowerCase().includes(q) || r.tags.some((t) => t.toLowerCase().includes(q)))
      && (!want || r.status === want));
    if (!rows.length) {
      replace(body, h('p', {class: 'empty'}, Object.keys(services).length ? 'No service matches the filter.' : 'No services registered.'));
      return;
    }
    replace(body, h('table', {class: 'rows', id: 'services'},
      h('thead', {}, h('tr', {}, ['Service', 'Health', 'Instances', 'Tags'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, rows.map((r) => h('tr', {'data-service': r.name},
        h('td', {'data-label': 'Service'}, h('a', {href: `${ctx.base}/services/${encodeURIComponent(r.name)}`}, r.name)),
        h('td', {'data-label': 'Health'}, summary(r.counts)),
        h('td', {'data-label': 'Instances'}, `${r.count} instance${r.count === 1 ? '' : 's'}`),
        h('td', {'data-label': 'Tags'}, tags(r.tags)))))));
  };

  const keepFilters = () => {
    const url = new URL(window.location.href);
    for (const [k, v] of [['q', search.value.trim()], ['status', health.value]]) {
      if (v) url.searchParams.set(k, v); else url.searchParams.delete(k);
    }
    history.replaceState(null, '', url);
    draw();
  };
  search.addEventListener('input', keepFilters);
  health.addEventListener('change', keepFilters);

  let generation = 0;
  ctx.scope.watch('catalog/services', {onData: async (data) => {
    const next = data || {};
    const mine = ++generation;
    // Instances change only with the services table, which this watch follows.
    await pool(Object.keys(next), 4, async (name) => {
      try {
        const {data: rows} = await request('GET', `catalog/service/${encodeURIComponent(name)}`, {signal: ctx.scope.signal});
        instances.set(name, (rows || []).map((r) => ({Node: r.Node, ServiceID: r.ServiceID})));
      } catch (err) {
        if (ctx.scope.active) ctx.scope.reportError(err, `catalog/service/${name}`);
      }
    });
    if (!ctx.scope.active || mine !== generation) return;
    services = next;
    draw();
  }});
  ctx.scope.watch('health/state/any', {onData: (data) => { checks = data || []; draw(); }});
}

/** `/ui/<dc>/services/<name>` */
export function serviceView(main, ctx, name) {
  document.title = `${name} · Services · Praetor`;
  const body = h('div', {'aria-live': 'polite'}, h('p', {class: 'muted'}, 'Loading…'));
  replace(main,
    h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'}, h('a', {href: `${ctx.base}/services`}, 'Services'), ' / '),
    h('h1', {id: 'service-name'}, name), body);
  ctx.scope.watch(`health/service/${encodeURIComponent(name)}`, {onData: (rows) => {
    rows = rows || [];
    if (!rows.length) {
      replace(body, h('p', {class: 'empty'}, 'No instances of this service are registered.'));
      return;
    }
    const all = rows.flatMap((r) => r.Checks || []);
    replace(body,
      h('p', {}, `${rows.length} instance${rows.length === 1 ? '' : 's'} · `, summary(countChecks(all))),
      rows.map((r) => instance(ctx, r)));
  }});
}

function instance(ctx, {Node: node, Service: svc, Checks: checks}) {
  const addr = svc.Address || node.Address;
  const status = worst((checks || []).map((c) => c.Status));
  return h('section', {class: `card instance ${status}`, 'data-instance': svc.ID},
    h('h2', {}, badge(status), ' ', svc.ID),
    h('dl', {class: 'facts'},
      h('dt', {}, 'Node'), h('dd', {}, h('a', {href: `${ctx.base}/nodes/${encodeURIComponent(node.Node)}`}, node.Node)),
      h('dt', {}, 'Address'), h('dd', {}, h('code', {}, svc.Port ? `${addr}:${svc.Port}` : addr)),
      h('dt', {}, 'Tags'), h('dd', {}, tags(svc.Tags))),
    h('h3', {}, 'Meta'), metaList(svc.Meta),
    h('h3', {}, 'Checks'), checkList(checks || []));
}
