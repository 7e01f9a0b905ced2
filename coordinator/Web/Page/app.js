// The VideoGen web page: plain ES module, no build step. It talks to the coordinator's REST/JSON API
// (gRPC JSON transcoding, see README "REST/JSON") on the origin that served it.
const $ = (id) => document.getElementById(id);
const KEY = 'videogen.apiKey';
const TERMINAL = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED']);
const DONE_TASK = new Set(['TASK_STATE_SUCCEEDED', 'TASK_STATE_FAILED', 'TASK_STATE_CANCELLED']);

class ApiError extends Error {
  constructor(status, body, text) {
    super(body?.message || text || `HTTP ${status}`);
    this.status = status;
    const details = Array.isArray(body?.details) ? body.details : [];
    this.violations = details.filter((d) => String(d['@type'] || '').endsWith('google.rpc.BadRequest'))
      .flatMap((d) => d.fieldViolations || []);
  }
}

// ---- API key: kept for this browser session only, sent as a bearer token.
const keyInput = $('api-key');
keyInput.value = sessionStorage.getItem(KEY) || '';
keyInput.addEventListener('change', () => {
  sessionStorage.setItem(KEY, keyInput.value.trim());
  refreshJobs();
  refreshWorkers();
});

function headers(json) {
  const h = {};
  if (json) h['content-type'] = 'application/json';
  const key = keyInput.value.trim();
  if (key) h.authorization = `Bearer ${key}`;
  return h;
}

async function api(method, path, body, signal) {
  const response = await fetch(path, {
    method, signal, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!response.ok) throw new ApiError(response.status, json, text);
  return json;
}

function banner(message) {
  const b = $('banner');
  b.textContent = message || '';
  b.hidden = !message;
}

function reportGlobal(error) {
  if (error?.name === 'AbortError') return;
  banner(error?.status === 401 || error?.status === 403
    ? `Not allowed: ${error.message} (check the API key)` : `The coordinator answered: ${error?.message || error}`);
}

const short = (value, prefix) => String(value || '').replace(prefix, '').toLowerCase();
const money = (usd) => `$${Number(usd || 0).toFixed(2)}`;
const seconds = (s) => `${Math.round(Number(s || 0))} s`;

// ---- The job form: live estimate, field errors next to their fields.
function readJob() {
  const form = $('job-form');
  const job = { prompt: $('prompt').value };
  const duration = $('duration').value.trim();
  if (duration) job.durationSeconds = Number(duration);
  if ($('template').value) job.template = $('template').value;
  if ($('resolution').value) job.resolution = $('resolution').value;
  const budget = $('budget').value.trim();
  if (budget) job.maxCostUsd = Number(budget);
  const aspects = [...form.querySelectorAll('input[name=aspect]:checked')].map((c) => c.value);
  if (aspects.length) job.aspectRatios = aspects;
  return job;
}

function showFieldErrors(error) {
  for (const slot of document.querySelectorAll('#job-form .field-error')) slot.textContent = '';
  if (!error) return;
  const slots = [...document.querySelectorAll('#job-form .field-error')];
  const violations = error.violations?.length ? error.violations : [{ field: 'other', description: error.message }];
  for (const v of violations) {
    const slot = slots.find((s) => s.dataset.field !== 'other' && (v.field === s.dataset.field || v.field.startsWith(`${s.dataset.field}[`) || v.field.startsWith(`${s.dataset.field}.`)))
      || slots.find((s) => s.dataset.field === 'other');
    slot.textContent = [slot.textContent, v.field === 'other' ? v.description : `${v.field}: ${v.description}`].filter(Boolean).join('; ');
  }
}

let estimateTimer = 0;
let estimateAbort = null;
function scheduleEstimate() {
  clearTimeout(estimateTimer);
  estimateTimer = setTimeout(estimate, 300);
}

async function estimate() {
  estimateAbort?.abort();
  const job = readJob();
  if (!job.prompt.trim()) {
    $('estimate').textContent = 'Type a prompt for an estimate.';
    showFieldErrors(null);
    return;
  }
  estimateAbort = new AbortController();
  try {
    const e = await api('POST', '/v1/jobs:estimate', { job }, estimateAbort.signal);
    showFieldErrors(null);
    const plan = e.plan || {};
    const spec = plan.spec || {};
    const chunks = (plan.chunks || []).length;
    $('estimate').textContent = `${seconds(spec.durationSeconds)} · template ${spec.template || '?'} · ${plan.model || '?'} · `
      + `${chunks} chunk${chunks === 1 ? '' : 's'} of ${seconds(plan.clipSeconds)} · cost ${money(e.costUsd)} · `
      + `about ${seconds(e.expectedWallSeconds)} on ${e.workers || 0} worker${e.workers === 1 ? '' : 's'}`;
    $('estimate').dataset.chunks = String(chunks);
  } catch (error) {
    if (error.name === 'AbortError') return;
    $('estimate').textContent = 'No estimate: fix the fields below.';
    showFieldErrors(error);
  }
}

function newRequestId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

$('job-form').addEventListener('input', scheduleEstimate);
$('job-form').addEventListener('change', scheduleEstimate);
$('job-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  // The submit's answer is newer than any estimate still due: a late estimate must not clear its field errors.
  clearTimeout(estimateTimer);
  estimateAbort?.abort();
  const button = $('submit-button');
  button.disabled = true;
  try {
    const reply = await api('POST', '/v1/jobs', { requestId: newRequestId(), job: readJob() });
    showFieldErrors(null);
    banner('');
    await refreshJobs();
    openJob(reply.job.jobId);
  } catch (error) {
    showFieldErrors(error);
  } finally {
    button.disabled = false;
  }
});

// ---- Job list.
async function refreshJobs() {
  try {
    const list = await api('GET', '/v1/jobs?pageSize=25');
    const body = $('job-list');
    body.replaceChildren(...(list.jobs || []).map((job) => {
      const row = document.createElement('tr');
      row.className = 'job';
      row.dataset.jobId = job.jobId;
      row.dataset.state = job.state;
      for (const text of [job.jobId, job.request?.prompt || '', short(job.state, 'JOB_STATE_'), money(job.costUsd),
        job.createdAt ? new Date(job.createdAt).toLocaleTimeString() : '']) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      row.addEventListener('click', () => openJob(job.jobId));
      return row;
    }));
    banner('');
  } catch (error) {
    reportGlobal(error);
  }
}

// ---- Job view: bars per task from the NDJSON watch (resumed from the last sequence seen).
let current = null;

// Artifacts in the coordinator's local store come from its artifact route, which wants the API key like every route:
// fetched with the key's header and shown from a blob URL (an <img> or <video> cannot send a header). S3 artifacts
// play from their presigned url. One fetch per artifact and page.
const artifactBlobs = new Map();

function artifactUrl(jobId, uri, url) {
  if (url) return Promise.resolve(url);
  const path = `/v1/jobs/${encodeURIComponent(jobId)}/artifact?uri=${encodeURIComponent(uri)}`;
  if (!artifactBlobs.has(path)) {
    artifactBlobs.set(path, fetch(path, { headers: headers(false) }).then(async (response) => {
      if (!response.ok) throw new ApiError(response.status, null, await response.text());
      return URL.createObjectURL(await response.blob());
    }).catch((error) => { artifactBlobs.delete(path); throw error; }));
  }
  return artifactBlobs.get(path);
}

function showArtifact(element, attribute, jobId, uri, url) {
  artifactUrl(jobId, uri, url).then((src) => { element[attribute] = src; }).catch(reportGlobal);
}

function renderTask(task) {
  let row = document.querySelector(`#tasks .task[data-task-id="${CSS.escape(task.taskId)}"]`);
  if (!row) {
    row = document.createElement('div');
    row.className = 'task';
    row.dataset.taskId = task.taskId;
    row.innerHTML = '<span class="name"></span><div class="bar"><div></div></div><span class="label"></span>';
    row.querySelector('.name').textContent = task.taskId;
    $('tasks').append(row);
  }
  const state = task.state || 'TASK_STATE_WAITING';
  const progress = state === 'TASK_STATE_SUCCEEDED' ? 1 : Math.max(0, Math.min(1, Number(task.progress || 0)));
  row.dataset.state = state;
  row.dataset.progress = String(progress);
  row.querySelector('.bar > div').style.width = `${Math.round(progress * 100)}%`;
  row.querySelector('.label').textContent = `${short(state, 'TASK_STATE_')}${state === 'TASK_STATE_RUNNING' ? ` ${Math.round(progress * 100)}%` : ''}${task.workerId ? ` · ${task.workerId}` : ''}`;
}

function renderJob(job) {
  current.job = job;
  $('job-view').hidden = false;
  $('job-id').textContent = job.jobId;
  $('job-state').textContent = short(job.state, 'JOB_STATE_');
  $('job-view').dataset.state = job.state;
  const spec = job.plan?.spec;
  $('job-summary').textContent = `${job.request?.prompt || ''}${spec ? ` · ${seconds(spec.durationSeconds)} · ${spec.template}` : ''} · cost ${money(job.costUsd)}`;
  $('job-error').hidden = !job.error;
  $('job-error').textContent = job.error || '';
  $('cancel-button').hidden = TERMINAL.has(job.state);
  for (const task of job.tasks || []) renderTask(task);
  const frames = (job.tasks || []).filter((t) => t.kind === 'TASK_KIND_STORYBOARD' && t.state === 'TASK_STATE_SUCCEEDED' && t.outputUri);
  $('storyboard').replaceChildren(...frames.map((t) => {
    const img = document.createElement('img');
    img.alt = t.taskId;
    showArtifact(img, 'src', job.jobId, t.outputUri);
    return img;
  }));
  const player = $('player');
  if (job.state === 'JOB_STATE_SUCCEEDED' && (job.outputUrl || job.outputUri)) {
    player.hidden = false;
    const src = job.outputUrl || job.outputUri;
    if ($('video').dataset.src !== src) {
      $('video').dataset.src = src;
      showArtifact($('video'), 'src', job.jobId, job.outputUri, job.outputUrl);
    }
    $('deliverables').replaceChildren(...(job.deliverables || []).map((d) => {
      const item = document.createElement('li');
      const link = document.createElement('a');
      showArtifact(link, 'href', job.jobId, d.uri, d.url);
      link.textContent = `${d.aspectRatio} · ${d.widthPixels}×${d.heightPixels}`;
      item.append(link);
      if (d.uri !== job.outputUri) {
        const video = document.createElement('video');
        video.controls = true;
        video.preload = 'metadata';
        showArtifact(video, 'src', job.jobId, d.uri, d.url);
        video.dataset.aspect = d.aspectRatio;
        item.append(video);
      }
      return item;
    }));
  } else {
    player.hidden = true;
  }
}

async function openJob(jobId) {
  current?.abort.abort();
  const abort = new AbortController();
  current = { jobId, abort, job: null, last: 0 };
  const mine = current;
  $('tasks').replaceChildren();
  $('video').removeAttribute('src');
  delete $('video').dataset.src;
  try {
    const { job } = await api('GET', `/v1/jobs/${encodeURIComponent(jobId)}`, undefined, abort.signal);
    renderJob(job);
    mine.last = Number(job.lastSequence || 0);
    while (!abort.signal.aborted && !TERMINAL.has(mine.job.state)) {
      try {
        await watch(mine);
      } catch (error) {
        if (abort.signal.aborted) return;
        reportGlobal(error);
        await new Promise((r) => setTimeout(r, 1000)); // the stream broke: resume after the last sequence seen
      }
      const { job: fresh } = await api('GET', `/v1/jobs/${encodeURIComponent(jobId)}`, undefined, abort.signal);
      renderJob(fresh);
    }
  } catch (error) {
    reportGlobal(error);
  }
}

async function watch(mine) {
  const response = await fetch(`/v1/jobs/${encodeURIComponent(mine.jobId)}:watch?afterSequence=${mine.last}`, { headers: headers(false), signal: mine.abort.signal });
  if (!response.ok) throw new ApiError(response.status, null, await response.text());
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) await apply(mine, JSON.parse(line));
    }
  }
}

async function apply(mine, event) {
  mine.last = Math.max(mine.last, Number(event.sequence || 0));
  if (event.taskUpdated?.task) {
    renderTask(event.taskUpdated.task);
  } else if (event.stateChanged) {
    mine.job.state = event.stateChanged.state;
    $('job-state').textContent = short(event.stateChanged.state, 'JOB_STATE_');
    $('job-view').dataset.state = event.stateChanged.state;
    $('cancel-button').hidden = TERMINAL.has(event.stateChanged.state);
  }
  if (event.planned || (event.stateChanged && TERMINAL.has(event.stateChanged.state))) {
    const { job } = await api('GET', `/v1/jobs/${encodeURIComponent(mine.jobId)}`, undefined, mine.abort.signal);
    renderJob(job);
  }
}

$('cancel-button').addEventListener('click', async () => {
  if (!current) return;
  try {
    await api('POST', `/v1/jobs/${encodeURIComponent(current.jobId)}:cancel`, {});
    refreshJobs();
  } catch (error) {
    reportGlobal(error);
  }
});

// ---- Workers.
async function refreshWorkers() {
  try {
    const list = await api('GET', '/v1/workers');
    $('worker-list').replaceChildren(...(list.workers || []).map((w) => {
      const row = document.createElement('tr');
      row.dataset.workerId = w.workerId;
      row.dataset.state = w.workerState || '';
      for (const text of [w.workerId, short(w.workerState, 'WORKER_STATE_') || w.state, w.runningTasks || 0, w.slots || 0,
        w.tasksSucceeded || 0, w.tasksFailed || 0, (w.models || []).join(', ')]) {
        const cell = document.createElement('td');
        cell.textContent = String(text);
        row.append(cell);
      }
      return row;
    }));
  } catch (error) {
    reportGlobal(error);
  }
}

async function loadTemplates() {
  try {
    const list = await api('GET', '/v1/templates');
    for (const t of list.templates || []) {
      const option = document.createElement('option');
      option.value = t.name;
      option.textContent = `${t.name} (${seconds(t.defaultDurationSeconds)})`;
      option.title = t.description || '';
      $('template').append(option);
    }
  } catch (error) {
    reportGlobal(error);
  }
}

loadTemplates();
refreshJobs();
refreshWorkers();
setInterval(refreshJobs, 2000);
setInterval(refreshWorkers, 2000);
document.body.dataset.ready = 'true';
