// Nodes: the list with each node's health; one node's address, meta, services and checks.

import {encodePath} from './api.js';
import {h, replace, summary, countChecks, worst, tags, metaList, checkList, badge} from './dom.js';

/** `/ui/<dc>/nodes` */
export function nodesView(main, ctx) {
  document.title = 'Nodes · Praetor';
  const search = h('input', {id: 'node-search', type: 'search', placeholder: 'Name or address'});
  const body = h('div', {'aria-live': 'polite'}, h('p', {class: 'muted'}, 'Loading…'));
  replace(main, h('h1', {}, 'Nodes'),
    h('form', {class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault()}, h('label', {}, 'Search ', search)),
    body);
  let nodes = null;
  let checks = [];
  const draw = () => {
    if (!nodes) return;
    const q = search.value.trim().toLowerCase();
    const rows = nodes.filter((n) => !q || n.Node.toLowerCase().includes(q) || n.Address.toLowerCase().includes(q));
    if (!rows.length) {
      replace(body, h('p', {class: 'empty'}, nodes.length ? 'No node matches the search.' : 'No nodes registered.'));
      return;
    }
    replace(body, h('table', {class: 'rows', id: 'nodes'},
      h('thead', {}, h('tr', {}, ['Node', 'Health', 'Address', 'Services'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, rows.map((n) => {
        const mine = checks.filter((c) => c.Node === n.Node);
        const services = new Set(mine.filter((c) => c.ServiceName).map((c) => c.ServiceName));
        return h('tr', {'data-node': n.Node},
          h('td', {'data-label': 'Node'}, h('a', {href: `${ctx.base}/nodes/${encodeURIComponent(n.Node)}`}, n.Node)),
          h('td', {'data-label': 'Health'}, summary(countChecks(mine))),
          h('td', {'data-label': 'Address'}, h('code', {}, n.Address)),
          h('td', {'data-label': 'Services'}, tags([...services].sort())));
      }))));
  };
  search.addEventListener('input', draw);
  ctx.scope.watch('catalog/nodes', {onData: (data) => { nodes = data || []; draw(); }});
  ctx.scope.watch('health/state/any', {onData: (data) => { checks = data || []; draw(); }});
}

/** `/ui/<dc>/nodes/<name>` */
export function nodeView(main, ctx, name) {
  document.title = `${name} · Nodes · Praetor`;
  const body = h('div', {'aria-live': 'polite'}, h('p', {class: 'muted'}, 'Loading…'));
  replace(main,
    h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'}, h('a', {href: `${ctx.base}/nodes`}, 'Nodes'), ' / '),
    h('h1', {id: 'node-name'}, name), body);
  let node;   // undefined: not loaded; null: unknown node
  let checks = null;
  const draw = () => {
    if (node === undefined || checks === null) return;
    if (node === null) {
      replace(body, h('p', {class: 'empty'}, 'This node is not in the catalog.'));
      return;
    }
    const n = node.Node;
    const services = Object.values(node.Services || {}).sort((a, b) => a.Service.localeCompare(b.Service) || a.ID.localeCompare(b.ID));
    const tagged = Object.entries(n.TaggedAddresses || {}).sort();
    replace(body,
      h('section', {class: 'card'},
        h('h2', {}, badge(worst(checks.map((c) => c.Status))), ' Node'),
        h('dl', {class: 'facts'},
          h('dt', {}, 'Address'), h('dd', {}, h('code', {}, n.Address)),
          h('dt', {}, 'ID'), h('dd', {}, h('code', {}, n.ID || '—')),
          h('dt', {}, 'Datacenter'), h('dd', {}, n.Datacenter || ctx.dc),
          tagged.map(([k, v]) => [h('dt', {}, `Address (${k})`), h('dd', {}, h('code', {}, v))])),
        h('h3', {}, 'Meta'), metaList(n.Meta)),
      h('section', {class: 'card'}, h('h2', {}, 'Services'),
        services.length ? h('table', {class: 'rows', id: 'node-services'},
          h('thead', {}, h('tr', {}, ['Service', 'ID', 'Port', 'Tags', 'Health'].map((t) => h('th', {scope: 'col'}, t)))),
          h('tbody', {}, services.map((s) => h('tr', {},
            h('td', {'data-label': 'Service'}, h('a', {href: `${ctx.base}/services/${encodeURIComponent(s.Service)}`}, s.Service)),
            h('td', {'data-label': 'ID'}, s.ID),
            h('td', {'data-label': 'Port'}, s.Port ? `${s.Address || n.Address}:${s.Port}` : (s.Address || '—')),
            h('td', {'data-label': 'Tags'}, tags(s.Tags)),
            h('td', {'data-label': 'Health'}, summary(countChecks(checks.filter((c) => c.ServiceID === s.ID))))))))
          : h('p', {class: 'muted'}, 'No services on this node')),
      h('section', {class: 'card'}, h('h2', {}, 'Checks'), checkList(checks)));
  };
  const arg = encodePath(name);
  ctx.scope.watch(`catalog/node/${arg}`, {onData: (data) => { node = data; draw(); }});
  ctx.scope.watch(`health/node/${arg}`, {onData: (data) => { checks = data || []; draw(); }});
}
