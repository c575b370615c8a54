// Live views through blocking queries: each watched resource has exactly one request
// outstanding, waits on the server (?index=&wait=) rather than polling, backs off on
// errors, and stops when the view goes away.

import {request} from './api.js';

/** How long the server may hold a blocking query. */
const WAIT = '5m';
/** Least time between two requests for one resource, whatever the server answers. */
const MIN_GAP_MS = 250;
/** Error back-off: doubles from the first to the last value. */
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, {once: true});
  });
}

/**
 * Watches `GET /v1/<path>`: calls `onData(data, answer)` with the first answer and then
 * whenever the index moves; `onError(err)` on each failure, `onError(null)` once a later
 * request succeeds. Returns a function that stops the watch (and aborts its request).
 */
export function watch(path, {params = {}, allow404 = false, onData, onError}) {
  const stop = new AbortController();
  let index = 0;
  let first = true;
  let failing = false;
  let backoff = 0;
  (async () => {
    while (!stop.signal.aborted) {
      const started = Date.now();
      try {
        const blocking = index > 0 ? {index, wait: WAIT} : {};
        const answer = await request('GET', path, {params: {...params, ...blocking}, signal: stop.signal, allow404});
        if (stop.signal.aborted) return;
        backoff = 0;
        if (failing) { failing = false; onError(null); }
        const changed = first || answer.index !== index;
        // An index that went backwards (snapshot restore, tombstone reaping) restarts
        // the watch from scratch, as Consul's clients do.
        index = answer.index < index ? 0 : answer.index;
        first = false;
        if (changed) onData(answer.data, answer);
        const elapsed = Date.now() - started;
        if (elapsed < MIN_GAP_MS) await sleep(MIN_GAP_MS - elapsed, stop.signal);
      } catch (err) {
        if (stop.signal.aborted) return;
        failing = true;
        onError(err);
        backoff = Math.min(BACKOFF_MAX_MS, backoff ? backoff * 2 : BACKOFF_MIN_MS);
        await sleep(backoff * (0.75 + Math.random() / 4), stop.signal);
      }
    }
  })();
  return () => stop.abort();
}

/**
 * What a view uses to start watches and one-off reads that all end when it is left:
 * `scope.watch(...)`, `scope.signal`, `scope.stop()`.
 */
export class Scope {
  constructor(reportError) {
    this.controller = new AbortController();
    this.signal = this.controller.signal;
    this.stops = [];
    this.reportError = reportError;
  }

  watch(path, opts) {
    const onError = opts.onError || ((err) => this.reportError(err, path));
    this.stops.push(watch(path, {...opts, onError}));
  }

  get active() {
    return !this.signal.aborted;
  }

  stop() {
    this.controller.abort();
    for (const s of this.stops) s();
    this.stops = [];
  }
}
