// The sample's upload page: tus-js-client (window.tus, loaded from node_modules by index.html)
// plus a few lines of DOM. It talks only to the tus endpoint and to the sample's /api/config and /api/uploads.

const { Upload } = window.tus;

const params = new URLSearchParams(location.search);
// ?chunkSize=1048576 sends the file in PATCH requests of that many bytes (default: one request).
const chunkSize = Number(params.get('chunkSize')) || Infinity;
// The protocol tus-js-client speaks: tus 1.0, or the IETF draft "Resumable Uploads for HTTP" in
// the two versions tus-js-client 4 knows (ietf-draft-03: interop version 5; ietf-draft-05: 6).
// The server serves them all on the same endpoint; ?protocol=ietf-draft-05 preselects one.
const PROTOCOLS = {
  'tus-v1': 'tus 1.0.0',
  'ietf-draft-03': 'IETF draft, interop 5',
  'ietf-draft-05': 'IETF draft, interop 6',
};

const $ = (selector) => document.querySelector(selector);
const activeList = $('#active');
const completedBody = $('#completed tbody');
const completedIds = new Set();
/** Finished uploads of this page waiting for the server's hash, by upload id: they leave the list then. */
const activeById = new Map();
/** Files this page is uploading, so that picking one again does not start a second upload of it. */
const uploading = new Set();
/** Views of uploads a reload interrupted, by their localStorage key. */
const interrupted = new Map();

const config = await fetch('/api/config').then((res) => res.json());
const endpoint = new URL(config.tusEndpoint, location.href).href;
const protocolSelect = $('#protocol');
if (params.get('protocol') in PROTOCOLS) protocolSelect.value = params.get('protocol');
const showEndpoint = () => {
  $('#endpoint').textContent =
    `${PROTOCOLS[protocolSelect.value]} · ${config.tusEndpoint}` + (Number.isFinite(chunkSize) ? ` · chunks of ${formatBytes(chunkSize)}` : '');
};
protocolSelect.addEventListener('change', showEndpoint);
showEndpoint();

// ---- picking and dropping files --------------------------------------------------------------

const input = $('#file-input');
input.addEventListener('change', () => {
  for (const file of input.files) void startUpload(file);
  input.value = '';
});

const drop = $('#drop');
for (const type of ['dragenter', 'dragover']) {
  drop.addEventListener(type, (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
}
for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('over'));
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  for (const file of event.dataTransfer.files) void startUpload(file);
});

// ---- one upload ------------------------------------------------------------------------------

async function startUpload(file) {
  // The same file twice at once would be two clients writing one upload.
  const key = `${file.name}|${file.size}|${file.lastModified}`;
  if (uploading.has(key)) return;
  uploading.add(key);
  const view = createUploadView(file);
  const meter = speedMeter();
  let state = 'uploading';

  const upload = new Upload(file, {
    endpoint,
    protocol: protocolSelect.value,
    chunkSize,
    retryDelays: [0, 1000, 3000, 5000],
    metadata: { filename: file.name, filetype: file.type || 'application/octet-stream' },
    // The URL is kept in localStorage under the file's fingerprint (name, type, size, date),
    // so the same file picked after a reload resumes; forget it once the upload is done.
    removeFingerprintOnSuccess: true,
    onAfterResponse(req, res) {
      // tus answers a HEAD with 200, the draft with 204.
      if (req.getMethod() === 'HEAD' && res.getStatus() >= 200 && res.getStatus() < 300) {
        const offset = Number(res.getHeader('Upload-Offset'));
        if (offset > 0) view.note(`resumed at ${formatBytes(offset)}`);
      }
    },
    onProgress(sent, total) {
      meter.add(sent);
      view.progress(sent, total, meter.speed());
    },
    onSuccess() {
      uploading.delete(key);
      setState('done');
      view.progress(file.size, file.size, 0);
      view.note('computing SHA-256…');
      // The server lists the upload once it has hashed it, which may be before or after this.
      const id = uploadId(upload.url);
      if (completedIds.has(id)) view.remove();
      else activeById.set(id, view);
    },
    onError(error) {
      setState('error');
      const res = error.originalResponse;
      view.note(res ? `server answered ${res.getStatus()} ${res.getBody() ?? ''}`.slice(0, 120) : error.message);
    },
  });

  function setState(next) {
    state = next;
    view.state(next);
  }

  view.toggle.addEventListener('click', async () => {
    if (state === 'uploading') {
      setState('paused');
      await upload.abort();
    } else if (state === 'paused' || state === 'error') {
      meter.reset();
      setState('uploading');
      upload.start();
    }
  });

  const previous = await upload.findPreviousUploads();
  if (previous.length > 0) {
    // The newest one: the same file may have been started more than once.
    previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime));
    upload.resumeFromPreviousUpload(previous[0]);
    view.note('resuming…');
    interrupted.get(previous[0].urlStorageKey)?.remove();
    interrupted.delete(previous[0].urlStorageKey);
  }
  upload.start();
}

function createUploadView(file) {
  const item = $('#upload-template').content.firstElementChild.cloneNode(true);
  const part = (name) => item.querySelector(`.${name}`);
  item.dataset.name = file.name;
  part('name').textContent = file.name;
  part('name').title = file.name;
  part('size').textContent = formatBytes(file.size);
  activeList.append(item);
  $('#active-section').hidden = false;

  const labels = { uploading: 'Pause', paused: 'Resume', error: 'Retry', done: 'Done', interrupted: 'Forget' };
  return {
    toggle: part('toggle'),
    state(state) {
      item.dataset.state = state;
      part('toggle').textContent = labels[state];
      part('toggle').disabled = state === 'done';
      if (state !== 'uploading') {
        part('speed').textContent = '';
        part('eta').textContent = state === 'paused' ? 'paused' : '';
      }
    },
    progress(sent, total, speed) {
      const percent = total > 0 ? (sent / total) * 100 : 100;
      part('fill').style.width = `${percent}%`;
      part('bar').setAttribute('aria-valuenow', percent.toFixed(0));
      part('percent').textContent = `${percent.toFixed(percent < 10 ? 1 : 0)}% · ${formatBytes(sent)}`;
      if (item.dataset.state !== 'uploading') return;
      part('speed').textContent = speed > 0 ? `${formatBytes(speed)}/s` : '';
      part('eta').textContent = speed > 0 ? `${formatDuration((total - sent) / speed)} left` : '';
    },
    note(text) {
      part('note').textContent = text;
    },
    remove() {
      item.classList.add('leaving');
      setTimeout(() => {
        item.remove();
        $('#active-section').hidden = activeList.children.length === 0;
      }, 400);
    },
  };
}

/** Bytes per second over the last two seconds of progress events. */
function speedMeter() {
  let samples = [];
  return {
    add(bytes) {
      const now = performance.now();
      samples.push([now, bytes]);
      samples = samples.filter(([time]) => now - time <= 2000);
    },
    speed() {
      if (samples.length < 2) return 0;
      const [[t0, b0], [t1, b1]] = [samples[0], samples[samples.length - 1]];
      return t1 > t0 ? ((b1 - b0) * 1000) / (t1 - t0) : 0;
    },
    reset() {
      samples = [];
    },
  };
}

// ---- uploads a reload interrupted ------------------------------------------------------------

// tus-js-client kept their URLs in localStorage; the server says how far each got. The page
// cannot read a file the user has not picked again, so it asks for it.
async function showInterrupted() {
  const { urlStorage } = window.tus.defaultOptions;
  for (const entry of await urlStorage.findAllUploads()) {
    const res = await fetch(entry.uploadUrl, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } }).catch(() => null);
    if (res === null || res.status >= 500) continue;
    const offset = Number(res.headers.get('Upload-Offset'));
    if (!res.ok || offset >= entry.size) {
      await urlStorage.removeUpload(entry.urlStorageKey); // gone, expired or already complete
      continue;
    }
    const view = createUploadView({ name: entry.metadata?.filename ?? 'unnamed file', size: entry.size });
    view.state('interrupted');
    view.progress(offset, entry.size, 0);
    view.note('choose this file again to continue');
    view.toggle.addEventListener('click', async () => {
      await urlStorage.removeUpload(entry.urlStorageKey);
      view.remove();
    });
    interrupted.set(entry.urlStorageKey, view);
  }
}
await showInterrupted();

// ---- completed uploads, live -------------------------------------------------------------------

// Subscribe first, then read the list: an upload finishing in between is in one or the other.
const events = new EventSource('/api/uploads/events');
events.addEventListener('added', (event) => showCompleted(JSON.parse(event.data)));
events.addEventListener('removed', (event) => removeCompleted(JSON.parse(event.data).id));
for (const upload of (await fetch('/api/uploads').then((res) => res.json())).reverse()) showCompleted(upload);
document.body.dataset.ready = 'true';

function showCompleted(upload) {
  if (completedIds.has(upload.id)) return;
  completedIds.add(upload.id);
  const row = document.createElement('tr');
  row.dataset.id = upload.id;
  const cells = [
    cell('name', upload.name),
    cell('num', formatBytes(upload.size)),
    cell('sha', `${upload.sha256.slice(0, 16)}…${upload.sha256.slice(-8)}`),
    cell('time', new Date(upload.completedAt).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' })),
    cell('action'),
  ];
  cells[0].title = upload.name;
  cells[2].title = upload.sha256;
  cells[2].dataset.sha256 = upload.sha256;
  cells[3].title = upload.completedAt;
  const link = document.createElement('a');
  link.href = upload.downloadUrl;
  link.textContent = 'Download';
  link.setAttribute('download', upload.name);
  cells[4].append(link);
  row.append(...cells);
  completedBody.prepend(row);
  updateCompletedCount();

  activeById.get(upload.id)?.remove();
  activeById.delete(upload.id);
}

function removeCompleted(id) {
  completedIds.delete(id);
  completedBody.querySelector(`tr[data-id="${CSS.escape(id)}"]`)?.remove();
  updateCompletedCount();
}

function updateCompletedCount() {
  $('#completed-count').textContent = String(completedIds.size);
  $('#completed').hidden = completedIds.size === 0;
  $('#completed-empty').hidden = completedIds.size > 0;
}

function cell(className, text = '') {
  const td = document.createElement('td');
  td.className = className;
  td.textContent = text;
  return td;
}

// ---- formatting --------------------------------------------------------------------------------

function uploadId(url) {
  return new URL(url, location.href).pathname.split('/').pop();
}

function formatBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 || value >= 100 ? 0 : 1)} ${units[unit]}`;
}

function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
