// Key/Value: a folder tree (?keys&separator=/), a key's value as text or base64, create
// (?cas=0), edit (?cas=<ModifyIndex>, so a concurrent change is never overwritten
// silently) and delete, a folder recursively after confirmation.

import {request, encodePath} from './api.js';
import {h, replace, confirmDialog, errorText} from './dom.js';

const utf8 = new TextDecoder('utf-8', {fatal: true});

function b64ToBytes(b64) {
  const bin = atob(b64.replace(/\s+/g, ''));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function bytesToB64(bytes) {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** The value as text when it is UTF-8, else null. */
function asText(bytes) {
  try { return utf8.decode(bytes); } catch { return null; }
}

/** `/ui/<dc>/kv/<path>`: a folder when empty or ending in `/`, else a key. */
export function kvView(main, ctx, path) {
  if (path === '' || path.endsWith('/')) folderView(main, ctx, path);
  else keyView(main, ctx, path);
}

function kvHref(ctx, key) {
  return `${ctx.base}/kv/${encodePath(key)}`;
}

function crumbs(ctx, path) {
  const parts = path.split('/').filter(Boolean);
  const links = [h('a', {href: kvHref(ctx, '')}, 'Key/Value')];
  let acc = '';
  const folders = path.endsWith('/') ? parts : parts.slice(0, -1);
  for (const p of folders) {
    acc += `${p}/`;
    links.push(' / ', h('a', {href: kvHref(ctx, acc)}, p));
  }
  return h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'}, links, ' /');
}

function status(el, text, kind = 'info') {
  el.className = `banner ${kind}`;
  el.textContent = text;
  el.hidden = !text;
}

function folderView(main, ctx, prefix) {
  document.title = `${prefix || 'Key/Value'} · Praetor`;
  const list = h('div', {'aria-live': 'polite'}, h('p', {class: 'muted'}, 'Loading…'));
  const msg = h('div', {role: 'status', hidden: true});
  const name = h('input', {id: 'kv-create-key', required: true, autocomplete: 'off', spellcheck: 'false',
    'aria-describedby': 'kv-create-help'});
  const value = h('textarea', {id: 'kv-create-value', rows: 4, spellcheck: 'false'});
  const form = h('form', {class: 'card editor', id: 'kv-create'},
    h('h2', {}, 'Create'),
    h('label', {}, 'Key or folder', h('span', {class: 'prefix'}, prefix, name)),
    h('p', {id: 'kv-create-help', class: 'muted'}, 'End the name with / to create a folder.'),
    h('label', {}, 'Value', value),
    h('div', {class: 'actions'}, h('button', {type: 'submit', id: 'kv-create-save', class: 'primary'}, 'Save')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = prefix + name.value;
    if (!name.value) return;
    try {
      const folder = key.endsWith('/');
      const {data: ok} = await request('PUT', `kv/${encodePath(key)}`, {params: {cas: 0}, body: folder ? '' : value.value});
      if (!ok) { status(msg, `Not created: "${key}" already exists.`, 'error'); return; }
      ctx.navigate(kvHref(ctx, key));
    } catch (err) {
      status(msg, `Not created: ${errorText(err)}`, 'error');
    }
  });
  replace(main, crumbs(ctx, prefix), h('h1', {}, prefix ? prefix : 'Key/Value'), msg, list, form);

  ctx.scope.watch(`kv/${encodePath(prefix)}`, {params: {keys: true, separator: '/'}, allow404: true, onData: (keys) => {
    const items = (keys || []).filter((k) => k !== prefix)
      .sort((a, b) => (b.endsWith('/') - a.endsWith('/')) || a.localeCompare(b));
    if (!items.length) {
      replace(list, h('p', {class: 'empty'}, prefix ? 'This folder is empty.' : 'There are no keys yet.'));
      return;
    }
    replace(list, h('ul', {class: 'kv-list', id: 'kv-list'}, items.map((k) => {
      const folder = k.endsWith('/');
      const label = k.slice(prefix.length);
      return h('li', {'data-key': k, class: folder ? 'folder' : 'key'},
        h('a', {href: kvHref(ctx, k)}, h('span', {class: 'icon', 'aria-hidden': 'true'}, folder ? '▸' : '•'), label),
        h('button', {type: 'button', class: 'danger small', 'aria-label': `Delete ${k}`, onclick: async () => {
          const question = folder
            ? `Delete the folder "${k}" and every key below it? This cannot be undone.`
            : `Delete the key "${k}"? This cannot be undone.`;
          if (!(await confirmDialog(question))) return;
          try {
            await request('DELETE', `kv/${encodePath(k)}`, {params: {recurse: folder}});
            status(msg, `Deleted ${k}`);
          } catch (err) {
            status(msg, `Not deleted: ${errorText(err)}`, 'error');
          }
        }}, 'Delete'));
    })));
  }});
}

function keyView(main, ctx, key) {
  document.title = `${key} · Key/Value · Praetor`;
  const parent = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
  const msg = h('div', {role: 'status', hidden: true});
  const notice = h('div', {class: 'banner warning', role: 'status', hidden: true});
  const facts = h('dl', {class: 'facts'});
  const encoding = h('select', {id: 'kv-encoding'}, h('option', {value: 'text'}, 'Text'), h('option', {value: 'base64'}, 'Base64'));
  const value = h('textarea', {id: 'kv-value', rows: 12, spellcheck: 'false'});
  const save = h('button', {type: 'submit', id: 'kv-save', class: 'primary'}, 'Save');
  const del = h('button', {type: 'button', id: 'kv-delete', class: 'danger'}, 'Delete');
  const reload = h('button', {type: 'button', id: 'kv-reload', hidden: true}, 'Load the current value');
  const form = h('form', {class: 'card editor', id: 'kv-edit'},
    h('div', {class: 'row'}, h('label', {for: 'kv-value'}, 'Value'), h('label', {}, 'Show as ', encoding)),
    value,
    h('div', {class: 'actions'}, save, reload, del));
  const body = h('div', {}, h('p', {class: 'muted'}, 'Loading…'));
  replace(main, crumbs(ctx, key), h('h1', {id: 'kv-key'}, key), msg, notice, body);

  let entry = null;     // the entry the editor was loaded from
  let latest = null;    // the newest entry seen
  let dirty = false;

  const bytesOf = (e) => (e && e.Value ? b64ToBytes(e.Value) : new Uint8Array());
  const load = (e) => {
    entry = e;
    dirty = false;
    const bytes = bytesOf(e);
    const text = asText(bytes);
    encoding.value = text === null ? 'base64' : 'text';
    value.value = text === null ? bytesToB64(bytes) : text;
    notice.hidden = true;
    reload.hidden = true;
    replace(facts,
      h('dt', {}, 'ModifyIndex'), h('dd', {id: 'kv-modify-index'}, e.ModifyIndex),
      h('dt', {}, 'CreateIndex'), h('dd', {}, e.CreateIndex),
      h('dt', {}, 'LockIndex'), h('dd', {}, e.LockIndex),
      h('dt', {}, 'Flags'), h('dd', {}, e.Flags),
      e.Session ? [h('dt', {}, 'Session'), h('dd', {}, h('code', {}, e.Session))] : null,
      h('dt', {}, 'Size'), h('dd', {}, `${bytes.length} bytes${text === null ? ' (not UTF-8 text)' : ''}`));
  };
  value.addEventListener('input', () => { dirty = true; });
  encoding.addEventListener('change', () => {
    try {
      if (encoding.value === 'base64') {
        value.value = bytesToB64(new TextEncoder().encode(value.value));
      } else {
        const text = asText(b64ToBytes(value.value));
        if (text === null) { encoding.value = 'base64'; status(msg, 'This value is not UTF-8 text; it can only be shown as base64.', 'error'); return; }
        value.value = text;
      }
      status(msg, '');
    } catch {
      encoding.value = 'base64';
      status(msg, 'The value is not valid base64.', 'error');
    }
  });
  reload.addEventListener('click', () => { if (latest) load(latest); status(msg, ''); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    let bytes;
    try {
      bytes = encoding.value === 'base64' ? b64ToBytes(value.value) : new TextEncoder().encode(value.value);
    } catch {
      status(msg, 'Not saved: the value is not valid base64.', 'error');
      return;
    }
    try {
      const {data: ok} = await request('PUT', `kv/${encodePath(key)}`,
        {params: {cas: entry ? entry.ModifyIndex : 0, flags: entry ? entry.Flags : undefined}, body: bytes});
      if (!ok) {
        status(msg, 'Not saved: the key was changed or deleted since you loaded it. Load the current value, then save again.', 'error');
        reload.hidden = !latest;
        return;
      }
      dirty = false;
      status(msg, 'Saved.', 'success');
    } catch (err) {
      status(msg, `Not saved: ${errorText(err)}`, 'error');
    }
  });
  del.addEventListener('click', async () => {
    if (!(await confirmDialog(`Delete the key "${key}"? This cannot be undone.`))) return;
    try {
      await request('DELETE', `kv/${encodePath(key)}`);
      ctx.navigate(kvHref(ctx, parent));
    } catch (err) {
      status(msg, `Not deleted: ${errorText(err)}`, 'error');
    }
  });

  ctx.scope.watch(`kv/${encodePath(key)}`, {allow404: true, onData: (rows) => {
    latest = rows && rows[0] ? rows[0] : null;
    if (!latest) {
      entry = null;
      replace(body, h('p', {class: 'empty', id: 'kv-missing'}, 'This key does not exist. ',
        h('a', {href: kvHref(ctx, parent)}, 'Back to the folder'), ' to create it.'));
      return;
    }
    if (!body.contains(form)) replace(body, h('section', {class: 'card'}, facts), form);
    if (!entry || !dirty) { load(latest); return; }
    if (latest.ModifyIndex !== entry.ModifyIndex) {
      notice.textContent = `This key changed on the server (ModifyIndex ${latest.ModifyIndex}) since you started editing; saving now would be refused.`;
      notice.hidden = false;
      reload.hidden = false;
    }
  }});
}
