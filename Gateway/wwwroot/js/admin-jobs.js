import { problemFrom } from './shop.js';
import { adminKey, onKeyForm } from './admin-key.js';

// The operations console: one live stream (server-sent events read with fetch, so the admin key
// travels in a header) redraws the whole page every few seconds; buttons call the ops API.
const $ = id => document.getElementById(id);
const liveStatus = $('live-status');
const actionStatus = $('action-status');
let shownHistory = null;

onKeyForm($('key-form'), $('admin-key'), () => {
  connect();
  pollScaler();
});

function el(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith('data-')) node.dataset[name.slice(5).replace(/-(.)/g, (_, c) => c.toUpperCase())] = value;
    else node.setAttribute(name, value);
  }
  return node;
}

const seconds = value => value === null || value === undefined ? '–' : `${value.toFixed(1)} s`;
const megabytes = bytes => `${(bytes / 1048576).toFixed(0)} MB`;
const time = iso => new Date(iso).toLocaleTimeString();

function setLive(text, state) {
  liveStatus.textContent = text;
  liveStatus.dataset.state = state;
}

let streaming = null;
async function connect() {
  if (!adminKey()) return;
  streaming?.abort();
  const controller = new AbortController();
  streaming = controller;
  while (!controller.signal.aborted) {
    try {
      const response = await fetch('/api/ops/stream', {
        headers: { Accept: 'text/event-stream', 'X-Api-Key': adminKey() },
        signal: controller.signal,
      });
      if (response.status === 401 || response.status === 403) {
        setLive('The admin key was refused.', 'refused');
        return;
      }
      if (response.ok && response.body) await readSnapshots(response.body);
    } catch {
      // The line dropped: open the stream again.
    }
    if (!controller.signal.aborted) setLive('Reconnecting…', 'reconnecting');
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
}

async function readSnapshots(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const data = lines.filter(l => l.startsWith('data:')).map(l => l.slice(5).trimStart()).join('\n');
      if (lines.includes('event: snapshot') && data) show(JSON.parse(data));
    }
  }
}

function show(snapshot) {
  setLive(`Live, as of ${time(snapshot.at)}.`, 'live');
  showWorkers(snapshot.workers);
  showQueues(snapshot.queues, snapshot.queuesProblem);
  showUploads(snapshot.counts, snapshot.latest);
  showChart(snapshot.throughput);
}

function showWorkers(workers) {
  $('workers').replaceChildren(...workers.map(({ heartbeat: w, lost, silentForSeconds }) => {
    const state = lost ? 'Lost' : w.state;
    const row = el('tr', null, { 'data-testid': 'worker-row', 'data-worker-id': w.workerId, 'data-name': w.name, 'data-state': state, 'data-jobs': String(w.jobs.length) });
    const name = el('td');
    name.append(el('strong', w.name), el('br'), el('small', `${w.host} · pid ${w.pid} · v${w.version} · ${w.concurrency} at once`));
    if (w.lastWords) name.append(el('br'), el('small', w.lastWords, { 'data-testid': 'worker-last-words', class: 'error' }));
    const jobs = el('ul', null, { class: 'ops-jobs' });
    for (const job of w.jobs) {
      const elapsed = (Date.parse(w.sentAt) - Date.parse(job.receivedAt)) / 1000 + silentForSeconds;
      jobs.append(el('li', `${job.uploadId.slice(0, 8)} · ${(job.bytes / 1048576).toFixed(1)} MB · ${(job.pixels / 1e6).toFixed(1)} MP · ${seconds(elapsed)}${job.running ? '' : ' (waiting)'}`,
        { 'data-testid': 'worker-job', 'data-upload-id': job.uploadId }));
    }
    const actions = el('td');
    if (!lost && w.state === 'Running') {
      actions.append(button('Drain', 'worker-drain', () => act(`/api/ops/workers/${encodeURIComponent(w.workerId)}/drain`, `${w.name} drains.`)));
    }
    if (!lost && (w.state === 'Draining' || w.state === 'Drained')) {
      actions.append(button('Resume', 'worker-resume', () => act(`/api/ops/workers/${encodeURIComponent(w.workerId)}/resume`, `${w.name} takes jobs again.`)));
    }
    if (!lost && w.state !== 'Stopping') {
      actions.append(' ', button('Stop', 'worker-stop', () => act(`/api/ops/workers/${encodeURIComponent(w.workerId)}/stop`, `${w.name} stops once its jobs are done.`)));
    }
    row.append(name, el('td', state, { class: 'ops-state' }), el('td', null), el('td', `${w.done} / ${w.failed}`),
      el('td', megabytes(w.residentBytes)), el('td', time(w.startedAt)), el('td', `${silentForSeconds.toFixed(0)} s ago`), actions);
    row.children[2].append(jobs);
    return row;
  }));
}

// The scaler's rounds are not in the stream (it is UploadApi's picture; the scaler is the AppHost's): read on their own.
let scalerTimer = null;
async function pollScaler() {
  clearTimeout(scalerTimer);
  if (!adminKey()) return;
  try {
    const response = await fetch('/api/ops/scaler', { headers: { Accept: 'application/json', 'X-Api-Key': adminKey() } });
    if (response.ok) showScaler(await response.json());
  } catch {
    // Shown stale until the next try.
  }
  scalerTimer = setTimeout(pollScaler, 3000);
}

function showScaler({ current, changes }) {
  const summary = $('scaler-summary');
  if (current) {
    const leaving = current.leaving.length ? `; draining ${current.leaving.join(', ')}` : '';
    summary.textContent = `${current.from} running, ${current.to} wanted, between ${current.minWorkers} and the cap of ${current.maxWorkers}${leaving}. Last round ${time(current.at)}: ${current.reason}.`;
    summary.dataset.state = 'running';
    summary.dataset.workers = String(current.from);
    summary.dataset.cap = String(current.maxWorkers);
  } else {
    summary.textContent = 'No scaler runs: the pool is fixed, or the scaler has stopped.';
    summary.dataset.state = 'absent';
  }
  $('scaler-decisions').replaceChildren(...changes.map(d => {
    // pool: null for the image workers, else the API whose replicas changed (scaled by the gateway's latency).
    const row = el('tr', null, { 'data-testid': 'scaler-decision', 'data-direction': d.to > d.from ? 'up' : 'down', 'data-pool': d.pool ?? 'imageworker' });
    row.append(el('td', time(d.at)), el('td', `${d.pool ? d.pool + ' ' : ''}${d.from} → ${d.to}`, { class: 'ops-state' }), el('td', d.reason));
    return row;
  }));
}

function showQueues(queues, problem) {
  $('queues-problem').hidden = !problem;
  $('queues-problem').textContent = problem ?? '';
  $('queues').replaceChildren(...queues.map(q => {
    const row = el('tr', null, { 'data-testid': 'queue-row', 'data-queue': q.name });
    const actions = el('td');
    if (q.isErrorQueue && q.ready > 0) {
      actions.append(
        button(`Re-drive ${q.ready}`, 'queue-redrive', () => act(`/api/ops/error-queues/${encodeURIComponent(q.name)}/redrive`, null)),
        ' ',
        button(`Purge ${q.ready}`, 'queue-purge', () => act(`/api/ops/error-queues/${encodeURIComponent(q.name)}/purge`, null)));
    }
    row.append(el('td', q.name), el('td', String(q.ready)), el('td', String(q.unacknowledged)), el('td', String(q.consumers)),
      el('td', q.publishRate.toFixed(1)), el('td', q.deliverRate.toFixed(1)), el('td', seconds(q.oldestAgeSeconds)), actions);
    return row;
  }));
}

function showUploads(counts, latest) {
  $('upload-counts').textContent = Object.entries(counts).map(([state, count]) => `${state}: ${count}`).join(' · ');
  $('uploads').replaceChildren(...latest.map(u => {
    const row = el('tr', null, { 'data-testid': 'upload-row', 'data-upload-id': u.id, 'data-status': u.status });
    const id = button(u.id.slice(0, 8), 'upload-open', () => showHistory(u.id));
    id.classList.add('secondary');
    const actions = el('td');
    if (u.status === 'Failed') actions.append(button('Retry', 'upload-retry', () => act(`/api/uploads/${u.id}/retry`, `Upload ${u.id.slice(0, 8)} is queued again.`)));
    const first = el('td');
    first.append(id);
    row.append(first, el('td', u.status, { class: 'ops-state' }), el('td', `${u.attempts} (${u.starts} started)`),
      el('td', seconds(u.queuedSeconds)), el('td', seconds(u.processingSeconds)), el('td', seconds(u.totalSeconds)), el('td', u.reason ?? ''), actions);
    return row;
  }));
  if (shownHistory) showHistory(shownHistory, true);
}

async function showHistory(uploadId, quiet = false) {
  shownHistory = uploadId;
  try {
    const response = await fetch(`/api/ops/uploads/${uploadId}`, { headers: { Accept: 'application/json', 'X-Api-Key': adminKey() } });
    if (!response.ok) throw await problemFrom(response);
    const detail = await response.json();
    $('history-heading').textContent = `Upload ${uploadId}: ${detail.upload.status}`;
    $('history-entries').replaceChildren(...detail.history.map(h =>
      el('li', `${time(h.at)} · ${h.source} · ${h.event}${h.detail ? ': ' + h.detail : ''}`, { 'data-testid': 'history-entry', 'data-event': h.event })));
    $('history').hidden = false;
    $('history').dataset.uploadId = uploadId;
  } catch (error) {
    if (!quiet) actionStatus.textContent = `No history: ${error.message}`;
  }
}

function showChart(points) {
  const width = 600, height = 160, pad = 10;
  const maxRate = Math.max(1, ...points.map(p => p.readyPerMinute));
  const maxLatency = Math.max(1, ...points.map(p => p.medianLatencySeconds ?? 0));
  const x = i => pad + i * (width - 2 * pad) / Math.max(1, points.length - 1);
  const y = (value, max) => height - pad - value / max * (height - 2 * pad);
  $('chart-throughput').setAttribute('points', points.map((p, i) => `${x(i).toFixed(1)},${y(p.readyPerMinute, maxRate).toFixed(1)}`).join(' '));
  $('chart-latency').setAttribute('points', points.flatMap((p, i) => p.medianLatencySeconds === null ? [] : [`${x(i).toFixed(1)},${y(p.medianLatencySeconds, maxLatency).toFixed(1)}`]).join(' '));
  const last = [...points].reverse().find(p => p.readyPerMinute > 0);
  $('chart-legend').textContent = `Solid: uploads Ready per minute (peak ${maxRate.toFixed(0)}). Dashed: median upload→Ready (peak ${maxLatency.toFixed(1)} s).`
    + (last ? ` Latest: ${last.readyPerMinute.toFixed(0)}/min, ${seconds(last.medianLatencySeconds)}.` : '');
}

function button(text, testId, onClick) {
  const node = el('button', text, { type: 'button', 'data-testid': testId });
  node.addEventListener('click', onClick);
  return node;
}

async function act(url, done) {
  actionStatus.dataset.state = 'busy';
  try {
    const response = await fetch(url, { method: 'POST', headers: { Accept: 'application/json', 'X-Api-Key': adminKey() } });
    if (!response.ok) throw await problemFrom(response);
    const body = response.status === 204 ? null : await response.json();
    actionStatus.textContent = done ?? (body && 'messages' in body ? `${body.messages} messages of ${body.queue} handled.` : 'Done.');
    actionStatus.dataset.state = 'done';
  } catch (error) {
    actionStatus.textContent = `Refused: ${error.message}`;
    actionStatus.dataset.state = 'error';
  }
}

connect();
pollScaler();
