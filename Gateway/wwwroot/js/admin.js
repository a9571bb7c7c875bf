import { getJson, problemFrom } from './shop.js';
import { adminKey, forgetKey, onKeyForm } from './admin-key.js';

const $ = id => document.getElementById(id);

const keyInput = $('admin-key');
const keyStatus = $('key-status');
const createStatus = $('create-status');
const productId = $('product-id');
const fileInput = $('file');
const progress = $('progress');
const uploadStatus = $('upload-status');
const uploadReason = $('upload-reason');
const thumbnails = $('thumbnails');
const productLink = $('product-link');

function showKeyState() {
  keyStatus.textContent = adminKey() ? 'A key is set for this tab.' : 'Enter the admin key to create products and upload images.';
  keyStatus.dataset.state = adminKey() ? 'set' : 'missing';
}

onKeyForm($('key-form'), keyInput, showKeyState);
$('key-forget').addEventListener('click', () => {
  forgetKey();
  showKeyState();
});

function requireKey(statusElement) {
  if (adminKey()) return true;
  statusElement.textContent = 'Set the admin key first.';
  keyInput.focus();
  return false;
}

$('create-form').addEventListener('submit', async e => {
  e.preventDefault();
  if (!requireKey(createStatus)) return;
  const form = new FormData(e.target);
  const body = {
    sku: form.get('sku').trim(),
    name: form.get('name').trim(),
    description: form.get('description').trim(),
    category: form.get('category').trim(),
    price: Number(form.get('price')),
    currency: form.get('currency').trim().toUpperCase(),
    stock: parseInt(form.get('stock'), 10),
  };
  createStatus.textContent = 'Creating…';
  createStatus.dataset.state = 'busy';
  try {
    const response = await fetch('/api/inventory/products', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Api-Key': adminKey() },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw await problemFrom(response);
    const product = await response.json();
    productId.value = product.id;
    createStatus.textContent = `Created “${product.name}” (${product.id}). Now upload its image.`;
    createStatus.dataset.state = 'created';
    createStatus.dataset.productId = product.id;
    fileInput.focus();
  } catch (error) {
    createStatus.textContent = `Not created: ${error.message}`;
    createStatus.dataset.state = 'error';
  }
});

$('upload-form').addEventListener('submit', e => {
  e.preventDefault();
  if (!requireKey(uploadStatus)) return;
  const file = fileInput.files[0];
  if (!file) return;
  upload(file, productId.value.trim());
});

function setStatus(text, state) {
  uploadStatus.textContent = text;
  uploadStatus.dataset.state = state;
}

// XMLHttpRequest rather than fetch: only it reports upload progress.
function upload(file, product) {
  thumbnails.replaceChildren();
  uploadReason.hidden = true;
  productLink.hidden = true;
  progress.value = 0;
  setStatus('Uploading 0%', 'uploading');

  const form = new FormData();
  form.append('file', file);
  form.append('productId', product);

  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/api/uploads');
  xhr.setRequestHeader('X-Api-Key', adminKey());
  xhr.setRequestHeader('Accept', 'application/json');
  // The same key on a retried click lets the server recognise a duplicate.
  xhr.setRequestHeader('Idempotency-Key', crypto.randomUUID());
  xhr.upload.addEventListener('progress', e => {
    if (!e.lengthComputable) return;
    const percent = Math.round((e.loaded / e.total) * 100);
    progress.value = percent;
    setStatus(`Uploading ${percent}%`, 'uploading');
  });
  xhr.addEventListener('load', () => {
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
    if (xhr.status === 202 || xhr.status === 200 || xhr.status === 201) {
      progress.value = 100;
      setStatus('Uploaded; waiting for processing…', 'Pending');
      follow(body.id, product);
    } else {
      const message = body ? [body.title, body.detail].filter(Boolean).join(': ') : `${xhr.status} ${xhr.statusText}`;
      fail(`Upload refused: ${message}`);
    }
  });
  xhr.addEventListener('error', () => fail('Upload failed: the connection was lost.'));
  xhr.send(form);
}

function fail(reason) {
  setStatus('Failed', 'Failed');
  uploadReason.textContent = reason;
  uploadReason.hidden = false;
}

// Live status over server-sent events, read with fetch so the admin key travels in its header
// (EventSource cannot send one). The first event is the current state; the stream ends after
// Ready or Failed, or at the server's maximum lifetime, and is then opened again.
async function follow(uploadId, product) {
  uploadStatus.dataset.uploadId = uploadId;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const response = await fetch(`/api/uploads/${encodeURIComponent(uploadId)}/events`, {
        headers: { Accept: 'text/event-stream', 'X-Api-Key': adminKey() },
      });
      if (response.status === 401 || response.status === 403) {
        fail('The admin key was refused.');
        return;
      }
      if (response.ok && response.body && await readStatusEvents(response.body, product)) return;
    } catch {
      // The line dropped: open the stream again.
    }
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
}

// True once an event said Ready or Failed.
async function readStatusEvents(body, product) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const data = lines.filter(l => l.startsWith('data:')).map(l => l.slice(5).trimStart()).join('\n');
      if (lines.includes('event: status') && data && showUpload(JSON.parse(data), product)) {
        await reader.cancel();
        return true;
      }
    }
  }
}

function showUpload(upload, product) {
  switch (upload.status) {
    case 'Ready':
      setStatus('Ready', 'Ready');
      showThumbnails(upload.variants ?? []);
      if (product) {
        productLink.querySelector('a').href = `/product.html?id=${encodeURIComponent(product)}`;
        productLink.hidden = false;
      }
      return true;
    case 'Failed':
      fail(upload.reason || 'Processing failed.');
      return true;
    default:
      setStatus(upload.status === 'Processing' ? 'Processing…' : 'Waiting for processing…', upload.status);
      return false;
  }
}

function showThumbnails(variants) {
  const thumbs = variants.filter(v => v.name === 'thumb');
  const shown = (thumbs.length ? thumbs : variants).filter(v => typeof v.url === 'string' && v.url.startsWith('/images/'));
  thumbnails.replaceChildren(...shown.map(v => {
    const img = document.createElement('img');
    img.src = v.url;
    img.width = v.width;
    img.height = v.height;
    img.alt = `Processed ${v.name} (${v.format}, ${v.width}×${v.height})`;
    img.dataset.testid = 'upload-thumbnail';
    return img;
  }));
}

async function loadCategories() {
  try {
    const list = $('categories');
    for (const name of await getJson('/api/inventory/categories') ?? []) list.append(new Option(name));
  } catch {
    // Free text still works.
  }
}

showKeyState();
loadCategories();
