// skiff dashboard: plain JavaScript, no build step, no dependency.
//
// Everything it shows comes from the API server with the bearer token the user signed in with
// (kept in sessionStorage, gone when the tab closes). Each kind of object is listed once, then
// watched: `?watch=1&resourceVersion=RV` is a streamed response of newline-delimited JSON
// events, read with fetch's body reader. A watch that ends is resumed from the last version
// seen; an ERROR event with code 410 (the version is too old) means list again. While a watch
// is down the page says so, and keeps trying.
//
// Only the collections the current view shows are watched. The API server speaks HTTP/1.1,
// where a browser opens at most 6 connections to one server, and each open watch holds one:
// watching everything at once would leave no connection for a click's request.
'use strict';

const TOKEN_KEY = 'skiff-dashboard-token';
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 8000;

/** The collections the dashboard keeps live, by name: the API path lists all namespaces. */
const RESOURCES = {
  nodes: '/api/v1/nodes',
  pods: '/api/v1/pods',
  deployments: '/apis/apps/v1/deployments',
  services: '/api/v1/services',
  endpoints: '/api/v1/endpoints',
  events: '/api/v1/events',
  secrets: '/api/v1/secrets',
};

/** Actions, each shown only to a user the API says may do it (SelfSubjectAccessReview). */
const ACTIONS = {
  scale: { verb: 'patch', group: 'apps', resource: 'deployments', subresource: 'scale' },
  deletePod: { verb: 'delete', group: '', resource: 'pods' },
  cordon: { verb: 'patch', group: '', resource: 'nodes' },
};

const state = {
  token: null,
  allowed: {},
  stores: {},
  route: null,
  drafts: {},
  logs: null,
};

// ---------------------------------------------------------------------------------------------
// The API: every call carries the token; a failure becomes an Error with the API's message.

class ApiError extends Error {
  constructor(status, message, reason) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

async function api(method, path, body, contentType = 'application/json', signal) {
  const headers = { Authorization: `Bearer ${state.token}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = contentType;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    cache: 'no-store',
  });
  if (!response.ok) throw await apiError(response);
  return response;
}

/** The API's `Status` message for a failed response, or the HTTP status line. */
async function apiError(response) {
  let message = `${response.status} ${response.statusText}`;
  let reason = '';
  try {
    const status = await response.json();
    if (status && status.message) message = `${response.status} ${status.message}`;
    reason = (status && status.reason) || '';
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, message, reason);
}

async function apiJson(method, path, body, contentType) {
  const response = await api(method, path, body, contentType);
  return response.json();
}

// ANCHOR: may_i
/** Asks the API whether the signed-in user may do `attributes`; false on any error. */
async function mayI(attributes) {
  const review = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: attributes },
  };
  try {
    const answer = await apiJson('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', review);
    return Boolean(answer.status && answer.status.allowed);
  } catch {
    return false;
  }
}
// ANCHOR_END: may_i

// ---------------------------------------------------------------------------------------------
// Live collections: list, then watch from the list's resourceVersion; resume or relist.

const connection = { broken: new Set() };

function showConnection() {
  const element = document.getElementById('connection');
  element.hidden = false;
  if (connection.broken.size === 0) {
    element.className = 'connection live';
    element.textContent = 'Live: updates arrive as they happen';
  } else {
    element.className = 'connection lost';
    element.textContent = 'Connection lost: reconnecting…';
  }
}

class LiveCollection {
  constructor(name, path) {
    this.name = name;
    this.path = path;
    this.items = new Map();
    this.version = '';
    this.loaded = false;
    this.error = '';
    this.controller = null;
  }

  list() {
    return [...this.items.values()];
  }

  /** Starts listing and watching, unless it already is. */
  start() {
    if (this.controller && !this.controller.signal.aborted) return;
    this.controller = new AbortController();
    this.version = '';
    this.run(this.controller.signal);
  }

  /** Stops watching (the items stay, to show at once when the view comes back). */
  stop() {
    if (this.controller) this.controller.abort();
    this.setBroken(false);
  }

  async run(signal) {
    let delay = RETRY_MIN_MS;
    while (!signal.aborted) {
      try {
        if (!this.version) await this.relist(signal);
        await this.watch(signal, () => {
          delay = RETRY_MIN_MS;
          this.setBroken(false);
        });
        // The server ended the watch (its timeout): resume from the last version seen.
      } catch (error) {
        if (signal.aborted) return;
        if (error.gone) {
          this.version = '';
          continue;
        }
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          // Not a connection problem: this user may not read it. Say so, ask again later.
          this.error = error.message;
          this.loaded = true;
          scheduleRender();
          await sleep(RETRY_MAX_MS * 4, signal);
          continue;
        }
        this.setBroken(true);
        await sleep(delay, signal);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  setBroken(broken) {
    const was = connection.broken.has(this.name);
    if (broken && this.controller && !this.controller.signal.aborted) connection.broken.add(this.name);
    else connection.broken.delete(this.name);
    if (was !== broken) showConnection();
  }

  async relist(signal) {
    const response = await api('GET', this.path, undefined, undefined, signal);
    const list = await response.json();
    if (signal.aborted) return;
    this.items = new Map();
    for (const item of list.items || []) this.items.set(key(item), item);
    this.version = (list.metadata && list.metadata.resourceVersion) || '';
    this.loaded = true;
    this.error = '';
    this.setBroken(false);
    scheduleRender();
  }

// ANCHOR: watch
  async watch(signal, opened) {
    const query = `watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(this.version)}`;
    const response = await api('GET', `${this.path}?${query}`, undefined, undefined, signal);
    opened();
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return; // the server ended the watch: run() resumes it
      buffered += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) this.apply(JSON.parse(line));
      }
    }
  }

  apply(event) {
    const object = event.object || {};
    if (event.type === 'ERROR') {
      const error = new Error(object.message || 'watch error');
      error.gone = object.code === 410;
      throw error;
    }
    const version = object.metadata && object.metadata.resourceVersion;
    if (version) this.version = version;
    if (event.type === 'ADDED' || event.type === 'MODIFIED') this.items.set(key(object), object);
    else if (event.type === 'DELETED') this.items.delete(key(object));
    if (event.type !== 'BOOKMARK') scheduleRender();
  }
// ANCHOR_END: watch
}

function key(object) {
  const meta = object.metadata || {};
  return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (signal) signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

// ---------------------------------------------------------------------------------------------
// Sign-in and sign-out.

async function signIn(token) {
  state.token = token;
  // Any authenticated request tells a good token from a bad one; the access review is one.
  try {
    await apiJson('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb: 'list', resource: 'pods' } },
    });
  } catch (error) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    const why = error instanceof ApiError && error.status === 401
      ? 'The API server did not accept this token (401 Unauthorized).'
      : `Could not reach the API server: ${error.message}`;
    showSignIn(why);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  const entries = await Promise.all(
    Object.entries(ACTIONS).map(async ([name, attributes]) => [name, await mayI(attributes)]),
  );
  state.allowed = Object.fromEntries(entries);
  start();
}

function showSignIn(message) {
  document.getElementById('signin').hidden = false;
  document.getElementById('nav').hidden = true;
  document.getElementById('signout').hidden = true;
  document.getElementById('connection').hidden = true;
  document.getElementById('view').replaceChildren();
  document.getElementById('signin-error').textContent = message || '';
  document.getElementById('token').focus();
}

function start() {
  document.getElementById('signin').hidden = true;
  document.getElementById('nav').hidden = false;
  document.getElementById('signout').hidden = false;
  state.stores = {};
  for (const [name, path] of Object.entries(RESOURCES)) {
    state.stores[name] = new LiveCollection(name, path);
  }
  showConnection();
  if (!location.hash || location.hash === '#') location.hash = '#/overview';
  route();
}

function signOut() {
  for (const store of Object.values(state.stores)) store.stop();
  stopLogs();
  state.token = null;
  state.stores = {};
  connection.broken.clear();
  sessionStorage.removeItem(TOKEN_KEY);
  showSignIn('');
}

// ---------------------------------------------------------------------------------------------
// Small helpers: building DOM nodes (text is always text, never HTML), quantities, ages.

function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'text') element.textContent = value;
    else if (name === 'style') element.style.cssText = value; // CSSOM: allowed by the page's CSP
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

function table(caption, headers, rows, empty) {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((header) => h('th', { scope: 'col' }, header)))),
    h('tbody', {}, rows));
}

function badge(text, tone) {
  return h('span', { class: `badge ${tone}` }, text);
}

/** A CPU quantity in millicores: `250m`, `1`, `0.5`. */
function cpuMillis(quantity) {
  if (quantity === undefined || quantity === null) return 0;
  const text = String(quantity);
  if (text.endsWith('m')) return Number(text.slice(0, -1)) || 0;
  return Math.round((Number(text) || 0) * 1000);
}

const MEMORY_UNITS = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A memory quantity in bytes: `64Mi`, `1Gi`, `128M`, `1000`. */
function memoryBytes(quantity) {
  if (quantity === undefined || quantity === null) return 0;
  const match = /^([0-9.]+)([A-Za-z]*)$/.exec(String(quantity));
  if (!match) return 0;
  return (Number(match[1]) || 0) * (MEMORY_UNITS[match[2]] || 1);
}

function formatCpu(millis) {
  return millis % 1000 === 0 ? `${millis / 1000}` : `${millis}m`;
}

function formatMemory(bytes) {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)}Gi`;
  return `${Math.round(bytes / 2 ** 20)}Mi`;
}

function age(timestamp) {
  if (!timestamp) return '';
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

function nodeReady(node) {
  const conditions = (node.status && node.status.conditions) || [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

function podReady(pod) {
  const statuses = (pod.status && pod.status.containerStatuses) || [];
  const total = ((pod.spec && pod.spec.containers) || []).length;
  return [statuses.filter((s) => s.ready).length, total];
}

function podRestarts(pod) {
  return ((pod.status && pod.status.containerStatuses) || [])
    .reduce((sum, s) => sum + (s.restartCount || 0), 0);
}

function podPhase(pod) {
  if (pod.metadata && pod.metadata.deletionTimestamp) return 'Terminating';
  return (pod.status && pod.status.phase) || 'Pending';
}

function phaseTone(phase) {
  if (phase === 'Running' || phase === 'Succeeded') return 'ok';
  if (phase === 'Failed') return 'bad';
  return 'warn';
}

/** Parses a label selector of `key=value`, `key!=value`, `key` and `!key` terms. */
function parseSelector(text) {
  const terms = [];
  for (const raw of text.split(',')) {
    const term = raw.trim();
    if (!term) continue;
    let match;
    if ((match = /^([^!=\s]+)\s*!=\s*(\S*)$/.exec(term))) terms.push({ key: match[1], op: '!=', value: match[2] });
    else if ((match = /^([^!=\s]+)\s*==?\s*(\S*)$/.exec(term))) terms.push({ key: match[1], op: '=', value: match[2] });
    else if ((match = /^!([^!=\s]+)$/.exec(term))) terms.push({ key: match[1], op: '!' });
    else if ((match = /^([^!=\s]+)$/.exec(term))) terms.push({ key: match[1], op: 'exists' });
    else throw new Error(`label selector: "${term}" is not key=value, key!=value, key or !key`);
  }
  return terms;
}

function matchesSelector(labels, terms) {
  const l = labels || {};
  return terms.every((t) => {
    if (t.op === '=') return l[t.key] === t.value;
    if (t.op === '!=') return l[t.key] !== t.value;
    if (t.op === '!') return !(t.key in l);
    return t.key in l;
  });
}

function notice(message, isError) {
  const element = document.getElementById('notice');
  element.textContent = message;
  element.className = isError ? 'notice error' : 'notice';
}

async function act(description, action) {
  try {
    await action();
    notice(`${description}: done`);
  } catch (error) {
    notice(`${description} failed: ${error.message}`, true);
  }
}

// ---------------------------------------------------------------------------------------------
// Actions, each one request to the API.

function scaleDeployment(deployment, replicas) {
  const { namespace, name } = deployment.metadata;
  return act(`Scale ${namespace}/${name} to ${replicas}`, () => api('PATCH',
    `/apis/apps/v1/namespaces/${namespace}/deployments/${name}/scale`,
    { spec: { replicas } }, 'application/merge-patch+json'));
}

function deletePod(pod) {
  const { namespace, name } = pod.metadata;
  if (!window.confirm(`Delete pod ${namespace}/${name}?`)) return Promise.resolve();
  return act(`Delete pod ${namespace}/${name}`, () => api('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`));
}

function cordon(node, unschedulable) {
  const name = node.metadata.name;
  return act(`${unschedulable ? 'Cordon' : 'Uncordon'} ${name}`, () => api('PATCH', `/api/v1/nodes/${name}`,
    { spec: { unschedulable: unschedulable ? true : null } }, 'application/merge-patch+json'));
}

// ---------------------------------------------------------------------------------------------
// Views. Each view has a fixed part (headings, filters, the log viewer), built when the route
// changes, and a live part rebuilt whenever a watched collection changes.

const VIEWS = {
  overview: { title: 'Overview', watch: ['nodes', 'pods'], build: () => [], live: overviewLive },
  pods: { title: 'Pods', watch: ['pods'], build: podsControls, live: podsLive },
  pod: { title: 'Pod', watch: ['pods', 'events'], build: podControls, live: podLive },
  deployments: { title: 'Deployments', watch: ['deployments'], build: () => [], live: deploymentsLive },
  services: { title: 'Services', watch: ['services', 'endpoints'], build: () => [], live: servicesLive },
  events: { title: 'Events', watch: ['events'], build: () => [], live: eventsLive },
  secrets: { title: 'Secrets', watch: ['secrets'], build: () => [], live: secretsLive },
};

function items(name) {
  const store = state.stores[name];
  return store ? store.list() : [];
}

function unavailable(name) {
  const store = state.stores[name];
  if (!store || !store.loaded) return h('p', { class: 'muted' }, `Loading ${name}…`);
  if (store.error) return h('p', { class: 'error', role: 'alert' }, `${name}: ${store.error}`);
  return null;
}

function byName(a, b) {
  return key(a).localeCompare(key(b));
}

function overviewLive() {
  const nodes = items('nodes').sort(byName);
  const pods = items('pods');
  const active = pods.filter((p) => !['Succeeded', 'Failed'].includes(podPhase(p)));
  const ready = nodes.filter(nodeReady).length;
  const running = pods.filter((p) => podPhase(p) === 'Running').length;
  const cordoned = nodes.filter((n) => n.spec && n.spec.unschedulable).length;
  const namespaces = new Set(pods.map((p) => p.metadata.namespace)).size;
  const cards = h('div', { class: 'cards' },
    h('div', { class: 'card', id: 'nodes-ready' }, h('p', {}, 'Nodes Ready'), h('strong', {}, `${ready} / ${nodes.length}`)),
    h('div', { class: 'card', id: 'pods-running' }, h('p', {}, 'Pods Running'), h('strong', {}, `${running} / ${pods.length}`)),
    h('div', { class: 'card' }, h('p', {}, 'Nodes cordoned'), h('strong', {}, `${cordoned}`)),
    h('div', { class: 'card' }, h('p', {}, 'Namespaces with pods'), h('strong', {}, `${namespaces}`)));
  const rows = nodes.map((node) => {
    const name = node.metadata.name;
    const onNode = active.filter((p) => p.spec && p.spec.nodeName === name);
    let cpu = 0;
    let memory = 0;
    for (const pod of onNode) {
      for (const container of pod.spec.containers || []) {
        const requests = (container.resources && container.resources.requests) || {};
        cpu += cpuMillis(requests.cpu);
        memory += memoryBytes(requests.memory);
      }
    }
    const capacity = (node.status && (node.status.allocatable || node.status.capacity)) || {};
    const cpuCap = cpuMillis(capacity.cpu);
    const memCap = memoryBytes(capacity.memory);
    const isReady = nodeReady(node);
    const cordoned = Boolean(node.spec && node.spec.unschedulable);
    return h('tr', { 'data-node': name, 'data-ready': String(isReady) },
      h('th', { scope: 'row' }, name),
      h('td', {}, badge(isReady ? 'Ready' : 'NotReady', isReady ? 'ok' : 'bad'),
        cordoned ? [' ', badge('SchedulingDisabled', 'warn')] : null),
      usage(`${formatCpu(cpu)} of ${formatCpu(cpuCap)}`, cpu, cpuCap, `CPU requested on ${name}`),
      usage(`${formatMemory(memory)} of ${formatMemory(memCap)}`, memory, memCap, `Memory requested on ${name}`),
      h('td', { class: 'num' }, String(onNode.length)),
      state.allowed.cordon
        ? h('td', {}, h('button', {
          type: 'button',
          onclick: () => cordon(node, !cordoned),
          'aria-label': `${cordoned ? 'Uncordon' : 'Cordon'} node ${name}`,
        }, cordoned ? 'Uncordon' : 'Cordon'))
        : null);
  });
  const headers = ['Node', 'Status', 'CPU requested', 'Memory requested', 'Pods'];
  if (state.allowed.cordon) headers.push('Actions');
  return [cards, unavailable('nodes') || table('Nodes: capacity against what their pods request', headers, rows, 'No nodes yet.')];
}

function usage(text, used, capacity, label) {
  const percent = capacity > 0 ? Math.min(100, Math.round((used / capacity) * 100)) : 0;
  return h('td', {}, text,
    h('span', { class: 'bar', role: 'img', 'aria-label': `${label}: ${percent}%` },
      h('span', { style: `width: ${percent}%` })));
}

function podsControls(params) {
  const namespaces = new Set(items('pods').map((p) => p.metadata.namespace));
  const select = h('select', { id: 'filter-namespace', onchange: onFilter },
    h('option', { value: '' }, 'All namespaces'),
    [...namespaces].sort().map((ns) => h('option', { value: ns, selected: ns === params.namespace }, ns)));
  if (params.namespace && !namespaces.has(params.namespace)) {
    select.append(h('option', { value: params.namespace, selected: true }, params.namespace));
  }
  const labels = h('input', {
    id: 'filter-labels', type: 'text', value: params.labels || '', placeholder: 'app=web', oninput: onFilter, spellcheck: 'false',
  });
  return [h('div', { class: 'filters', role: 'search' },
    h('div', { class: 'field' }, h('label', { for: 'filter-namespace' }, 'Namespace'), select),
    h('div', { class: 'field' }, h('label', { for: 'filter-labels' }, 'Label selector'), labels),
    h('p', { id: 'filter-error', class: 'error', role: 'alert' }))];
}

function onFilter() {
  state.filters = {
    namespace: document.getElementById('filter-namespace').value,
    labels: document.getElementById('filter-labels').value,
  };
  scheduleRender();
}

function podsLive() {
  const filters = state.filters || {};
  let terms = [];
  const error = document.getElementById('filter-error');
  try {
    terms = parseSelector(filters.labels || '');
    if (error) error.textContent = '';
  } catch (e) {
    if (error) error.textContent = e.message;
  }
  const pods = items('pods')
    .filter((p) => !filters.namespace || p.metadata.namespace === filters.namespace)
    .filter((p) => matchesSelector(p.metadata.labels, terms))
    .sort(byName);
  const rows = pods.map((pod) => {
    const { namespace, name } = pod.metadata;
    const phase = podPhase(pod);
    const [ready, total] = podReady(pod);
    return h('tr', { 'data-pod': `${namespace}/${name}`, 'data-phase': phase },
      h('th', { scope: 'row' }, h('a', { href: `#/pods/${namespace}/${name}` }, name)),
      h('td', {}, namespace),
      h('td', {}, badge(phase, phaseTone(phase))),
      h('td', { class: 'num' }, `${ready}/${total}`),
      h('td', { class: 'num' }, String(podRestarts(pod))),
      h('td', {}, (pod.spec && pod.spec.nodeName) || ''),
      h('td', {}, (pod.status && pod.status.podIP) || ''),
      h('td', {}, age(pod.metadata.creationTimestamp)),
      state.allowed.deletePod
        ? h('td', {}, h('button', {
          type: 'button', class: 'danger', onclick: () => deletePod(pod), 'aria-label': `Delete pod ${namespace}/${name}`,
        }, 'Delete'))
        : null);
  });
  const headers = ['Name', 'Namespace', 'Phase', 'Ready', 'Restarts', 'Node', 'IP', 'Age'];
  if (state.allowed.deletePod) headers.push('Actions');
  return [unavailable('pods') || table(`${pods.length} pod(s)`, headers, rows, 'No pods match.')];
}

function podControls(params) {
  const pod = state.stores.pods && state.stores.pods.items.get(`${params.namespace}/${params.name}`);
  const containers = ((pod && pod.spec && pod.spec.containers) || []).map((c) => c.name);
  const select = h('select', { id: 'log-container' }, containers.map((c) => h('option', { value: c }, c)));
  const follow = h('input', { id: 'log-follow', type: 'checkbox', checked: true });
  const output = h('pre', { id: 'logs', class: 'logs', tabindex: '0', 'aria-label': 'Container logs' });
  const error = h('p', { id: 'log-error', class: 'error', role: 'alert' });
  const show = h('button', {
    type: 'button', id: 'log-show', onclick: () => showLogs(params, select.value, follow.checked),
  }, 'Show logs');
  return [h('h2', {}, `Pod ${params.namespace}/${params.name}`),
    h('div', { id: 'pod-live' }),
    h('h3', {}, 'Logs'),
    h('div', { class: 'logbar' },
      h('div', { class: 'field' }, h('label', { for: 'log-container' }, 'Container'), select),
      h('div', { class: 'check' }, follow, h('label', { for: 'log-follow' }, 'Follow')),
      show),
    error, output];
}

function stopLogs() {
  if (state.logs) state.logs.abort();
  state.logs = null;
}

async function showLogs(params, container, follow) {
  stopLogs();
  const controller = new AbortController();
  state.logs = controller;
  const output = document.getElementById('logs');
  const error = document.getElementById('log-error');
  output.textContent = '';
  error.textContent = '';
  const query = new URLSearchParams({ follow: String(follow) });
  if (container) query.set('container', container);
  const path = `/api/v1/namespaces/${params.namespace}/pods/${params.name}/log?${query}`;
  try {
    const response = await api('GET', path, undefined, undefined, controller.signal);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      output.textContent += decoder.decode(value, { stream: true });
      output.scrollTop = output.scrollHeight;
    }
  } catch (e) {
    if (!controller.signal.aborted) error.textContent = `Logs: ${e.message}`;
  }
}

function podLive(params) {
  const pod = state.stores.pods && state.stores.pods.items.get(`${params.namespace}/${params.name}`);
  const target = document.getElementById('pod-live');
  const parts = [];
  if (!pod) {
    parts.push(unavailable('pods') || h('p', { class: 'muted' }, 'This pod does not exist (any more).'));
  } else {
    const phase = podPhase(pod);
    parts.push(h('dl', { class: 'card' },
      h('dt', {}, 'Phase'), h('dd', {}, badge(phase, phaseTone(phase))),
      h('dt', {}, 'Node'), h('dd', {}, (pod.spec && pod.spec.nodeName) || '(not scheduled)'),
      h('dt', {}, 'IP'), h('dd', {}, (pod.status && pod.status.podIP) || ''),
      h('dt', {}, 'Age'), h('dd', {}, age(pod.metadata.creationTimestamp))));
    const statuses = new Map(((pod.status && pod.status.containerStatuses) || []).map((s) => [s.name, s]));
    const rows = (pod.spec.containers || []).map((c) => {
      const s = statuses.get(c.name) || {};
      const stateName = Object.keys(s.state || {})[0] || 'waiting';
      return h('tr', {},
        h('th', { scope: 'row' }, c.name),
        h('td', {}, c.image || ''),
        h('td', {}, s.ready ? badge('ready', 'ok') : badge('not ready', 'warn')),
        h('td', {}, stateName),
        h('td', { class: 'num' }, String(s.restartCount || 0)));
    });
    parts.push(h('h3', {}, 'Containers'),
      table('Containers', ['Name', 'Image', 'Ready', 'State', 'Restarts'], rows, 'No containers.'));
  }
  const events = items('events')
    .filter((e) => e.involvedObject && e.involvedObject.kind === 'Pod'
      && e.involvedObject.name === params.name && e.involvedObject.namespace === params.namespace)
    .sort(byTime);
  parts.push(h('h3', {}, 'Events'), eventTable(events, false));
  if (target) target.replaceChildren(...parts);
  return [];
}

function byTime(a, b) {
  return eventTime(b).localeCompare(eventTime(a));
}

function eventTime(event) {
  return event.lastTimestamp || event.eventTime || event.firstTimestamp || event.metadata.creationTimestamp || '';
}

function eventTable(events, withObject) {
  const rows = events.map((e) => h('tr', {},
    h('td', {}, age(eventTime(e))),
    h('td', {}, badge(e.type || 'Normal', e.type === 'Warning' ? 'bad' : 'ok')),
    h('td', {}, e.reason || ''),
    withObject ? h('td', {}, `${(e.involvedObject || {}).kind || ''} ${e.metadata.namespace || ''}/${(e.involvedObject || {}).name || ''}`) : null,
    h('td', {}, e.message || '')));
  const headers = withObject ? ['Age', 'Type', 'Reason', 'Object', 'Message'] : ['Age', 'Type', 'Reason', 'Message'];
  return table('Newest first', headers, rows, 'No events.');
}

function deploymentsLive() {
  const deployments = items('deployments').sort(byName);
  const rows = deployments.map((d) => {
    const { namespace, name } = d.metadata;
    const id = `${namespace}/${name}`;
    const want = (d.spec && d.spec.replicas) ?? 1;
    const s = d.status || {};
    const complete = (s.observedGeneration || 0) >= (d.metadata.generation || 0)
      && (s.updatedReplicas || 0) === want && (s.availableReplicas || 0) === want && (s.replicas || 0) === want;
    const rollout = complete
      ? badge('complete', 'ok')
      : badge(`progressing: ${s.updatedReplicas || 0} of ${want} updated, ${s.availableReplicas || 0} available`, 'warn');
    let control = null;
    if (state.allowed.scale) {
      const inputId = `scale-${namespace}-${name}`;
      const input = h('input', {
        id: inputId, type: 'number', min: '0', value: state.drafts[id] ?? String(want),
        oninput: (event) => { state.drafts[id] = event.target.value; },
      });
      const submit = (event) => {
        event.preventDefault();
        const replicas = Number(input.value);
        if (!Number.isInteger(replicas) || replicas < 0) {
          notice(`Scale ${id}: replicas must be a whole number, 0 or more (got "${input.value}")`, true);
          return;
        }
        delete state.drafts[id];
        scaleDeployment(d, replicas);
      };
      control = h('td', {}, h('form', { class: 'scale', onsubmit: submit },
        h('label', { for: inputId, class: 'muted' }, `Replicas for ${name}`), input,
        h('button', { type: 'submit' }, 'Scale')));
    }
    return h('tr', { 'data-deployment': id },
      h('th', { scope: 'row' }, h('a', { href: `#/pods?namespace=${encodeURIComponent(namespace)}&labels=${encodeURIComponent(selectorText(d))}` }, name)),
      h('td', {}, namespace),
      h('td', { class: 'num' }, `${s.readyReplicas || 0}/${want}`),
      h('td', { class: 'num' }, String(s.updatedReplicas || 0)),
      h('td', { class: 'num' }, String(s.availableReplicas || 0)),
      h('td', {}, rollout),
      control);
  });
  const headers = ['Name', 'Namespace', 'Ready', 'Up-to-date', 'Available', 'Rollout'];
  if (state.allowed.scale) headers.push('Scale');
  return [unavailable('deployments') || table('Deployments', headers, rows, 'No Deployments.')];
}

function selectorText(deployment) {
  const labels = (deployment.spec && deployment.spec.selector && deployment.spec.selector.matchLabels) || {};
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}

function servicesLive() {
  const endpoints = state.stores.endpoints ? state.stores.endpoints.items : new Map();
  const rows = items('services').sort(byName).map((svc) => {
    const { namespace, name } = svc.metadata;
    const ep = endpoints.get(`${namespace}/${name}`);
    const addresses = [];
    for (const subset of (ep && ep.subsets) || []) {
      const ports = (subset.ports || []).map((p) => p.port);
      for (const address of subset.addresses || []) {
        addresses.push({ ip: address.ip, node: address.nodeName || '', ports });
      }
    }
    const nodes = [...new Set(addresses.map((a) => a.node).filter(Boolean))].sort();
    const ports = ((svc.spec && svc.spec.ports) || [])
      .map((p) => `${p.port}${p.targetPort ? `→${p.targetPort}` : ''}/${p.protocol || 'TCP'}`).join(', ');
    return h('tr', { 'data-service': `${namespace}/${name}` },
      h('th', { scope: 'row' }, name),
      h('td', {}, namespace),
      h('td', {}, (svc.spec && svc.spec.type) || 'ClusterIP'),
      h('td', {}, (svc.spec && svc.spec.clusterIP) || ''),
      h('td', {}, ports),
      h('td', {}, addresses.length
        ? h('ul', {}, addresses.map((a) => h('li', {}, `${a.ip}:${a.ports.join(',')}`)))
        : h('span', { class: 'muted' }, 'none')),
      h('td', {}, nodes.join(', ')));
  });
  return [unavailable('services') || table('Services and the pods behind them',
    ['Name', 'Namespace', 'Type', 'Cluster IP', 'Ports', 'Endpoints', 'Nodes'], rows, 'No Services.')];
}

function eventsLive() {
  const events = items('events').sort(byTime).slice(0, 100);
  return [unavailable('events') || eventTable(events, true)];
}

function secretsLive() {
  const rows = items('secrets').sort(byName).map((secret) => {
    const { namespace, name } = secret.metadata;
    let data;
    if (secret.data) {
      data = h('dl', {}, Object.entries(secret.data).map(([k, v]) => [h('dt', {}, k), h('dd', {}, h('code', {}, decode(v)))]));
    } else {
      data = h('span', { class: 'muted' }, 'hidden: your role may see this Secret\'s name only');
    }
    return h('tr', { 'data-secret': `${namespace}/${name}` },
      h('th', { scope: 'row' }, name), h('td', {}, namespace), h('td', {}, secret.type || 'Opaque'), h('td', {}, data));
  });
  return [unavailable('secrets') || table('Secrets (values as the API returns them to you)',
    ['Name', 'Namespace', 'Type', 'Data'], rows, 'No Secrets.')];
}

function decode(base64) {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
  } catch {
    return '(not base64)';
  }
}

// ---------------------------------------------------------------------------------------------
// Routing and rendering.

function parseRoute() {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(query || ''));
  if (parts[0] === 'pods' && parts.length === 3) return { view: 'pod', params: { namespace: parts[1], name: parts[2] } };
  return { view: VIEWS[parts[0]] ? parts[0] : 'overview', params };
}

function route() {
  if (!state.token) return;
  stopLogs();
  state.route = parseRoute();
  if (state.route.view === 'pods') state.filters = { namespace: state.route.params.namespace || '', labels: state.route.params.labels || '' };
  const view = VIEWS[state.route.view];
  for (const [name, store] of Object.entries(state.stores)) {
    if (view.watch.includes(name)) store.start();
    else store.stop();
  }
  for (const link of document.querySelectorAll('nav a')) {
    const current = link.getAttribute('href') === `#/${state.route.view === 'pod' ? 'pods' : state.route.view}`;
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${view.title} · skiff dashboard`;
  const main = document.getElementById('view');
  const heading = state.route.view === 'pod' ? [] : [h('h2', {}, view.title)];
  main.replaceChildren(...heading, ...view.build(state.route.params), h('div', { id: 'live' }));
  renderLive();
}

let renderQueued = false;

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  setTimeout(() => {
    renderQueued = false;
    renderLive();
  }, 50);
}

function renderLive() {
  if (!state.route || !state.token) return;
  const live = document.getElementById('live');
  if (!live) return;
  // Never rebuild under someone typing (a replica count): the rows wait until the field loses
  // focus (see the focusout listener), then show everything that changed meanwhile.
  const typing = document.activeElement;
  if (typing && live.contains(typing) && ['INPUT', 'SELECT', 'TEXTAREA'].includes(typing.tagName)) {
    return;
  }
  // Rebuilding the rows must not take the keyboard focus away from where the user is.
  const focused = document.activeElement && live.contains(document.activeElement) ? document.activeElement.id : null;
  live.replaceChildren(...VIEWS[state.route.view].live(state.route.params));
  if (focused) {
    const again = document.getElementById(focused);
    if (again) again.focus();
  }
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = document.getElementById('token').value.trim();
    document.getElementById('token').value = '';
    signIn(token);
  });
  document.getElementById('signout').addEventListener('click', signOut);
  document.getElementById('view').addEventListener('focusout', scheduleRender);
  window.addEventListener('hashchange', route);
  // Ages move on even when nothing changes.
  setInterval(scheduleRender, 10000);
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
  else showSignIn('');
});
