// Shared by the storefront pages: API calls and product rendering. DOM is built with
// textContent/attributes only, never innerHTML, so product data cannot inject markup.

export async function getJson(url, options = {}) {
  const response = await fetch(url, { headers: { Accept: 'application/json' }, ...options });
  if (!response.ok) {
    throw await problemFrom(response);
  }
  return response.status === 204 ? null : response.json();
}

/** Turns a ProblemDetails (or any error) response into an Error with a readable message. */
export async function problemFrom(response) {
  let message = `${response.status} ${response.statusText}`;
  let problem = null;
  try {
    problem = await response.json();
    message = [problem.title, problem.detail].filter(Boolean).join(': ') || message;
    if (problem.errors) {
      message += ' (' + Object.values(problem.errors).flat().join(' ') + ')';
    }
  } catch {
    // Not JSON: keep the status line.
  }
  const error = new Error(message);
  error.status = response.status;
  error.problem = problem;
  return error;
}

export function formatPrice(amount, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount);
  } catch {
    return `${Number(amount).toFixed(2)} ${currency ?? ''}`.trim();
  }
}

export function stockText(stock) {
  const available = stock?.available ?? 0;
  if (available <= 0) return 'Out of stock';
  if (available < 5) return `Only ${available} left`;
  return `In stock (${available})`;
}

const formatOrder = ['avif', 'webp', 'jpeg', 'png', 'gif'];

function mimeOf(format) {
  const f = String(format ?? '').toLowerCase();
  if (f.includes('/')) return f;
  return 'image/' + (f === 'jpg' ? 'jpeg' : f);
}

/** Only our own image URLs are used; anything else from the API is ignored. */
function safeUrl(url) {
  return typeof url === 'string' && url.startsWith('/images/') ? url : null;
}

/**
 * A <picture> for one product image: one <source> per modern format and an <img> fallback, each
 * with a width-described srcset built from the variants (thumb, card, detail).
 */
export function pictureFor(image, { alt, sizes, eager = false, testId = 'product-image' }) {
  const byFormat = new Map();
  for (const variant of image?.variants ?? []) {
    const url = safeUrl(variant.url);
    if (!url || !variant.width) continue;
    const mime = mimeOf(variant.format);
    if (!byFormat.has(mime)) byFormat.set(mime, []);
    byFormat.get(mime).push(variant);
  }

  const picture = document.createElement('picture');
  const img = document.createElement('img');
  img.alt = image?.alt || alt || '';
  img.decoding = 'async';
  img.loading = eager ? 'eager' : 'lazy';
  img.dataset.testid = testId;

  if (byFormat.size === 0) {
    img.src = '/img/placeholder.svg';
    img.width = 400;
    img.height = 300;
    picture.append(img);
    return picture;
  }

  const mimes = [...byFormat.keys()].sort((a, b) => rank(a) - rank(b));
  const fallback = mimes.find(m => m === 'image/jpeg' || m === 'image/png') ?? mimes[mimes.length - 1];
  for (const mime of mimes.filter(m => m !== fallback)) {
    const source = document.createElement('source');
    source.type = mime;
    source.srcset = srcsetOf(byFormat.get(mime));
    source.sizes = sizes;
    picture.append(source);
  }

  showPlaceholderUntilLoaded(img, image?.placeholder);
  const variants = byFormat.get(fallback).sort((a, b) => a.width - b.width);
  const middle = variants[Math.min(1, variants.length - 1)];
  img.src = middle.url;
  img.srcset = srcsetOf(variants);
  img.sizes = sizes;
  // Intrinsic size reserves the space before the image loads (no layout shift).
  img.width = middle.width;
  img.height = middle.height;
  picture.append(img);
  return picture;
}

/**
 * The worker's ~20 px blurred preview (a data: URI) under the image until it loads, so a grid still loading shows
 * the photo's colours instead of blank boxes. Removed on load: a transparent PNG must not show it through.
 */
function showPlaceholderUntilLoaded(img, placeholder) {
  if (typeof placeholder !== 'string' || !/^data:image\/(webp|jpeg|png);base64,[A-Za-z0-9+/=]+$/.test(placeholder)) return;
  img.style.backgroundImage = `url("${placeholder}")`;
  img.style.backgroundSize = 'cover';
  img.dataset.placeholder = 'shown';
  img.addEventListener('load', () => {
    img.style.backgroundImage = '';
    img.dataset.placeholder = 'replaced';
  }, { once: true });
}

function rank(mime) {
  const i = formatOrder.indexOf(mime.replace('image/', ''));
  return i < 0 ? formatOrder.length : i;
}

function srcsetOf(variants) {
  return variants
    .slice()
    .sort((a, b) => a.width - b.width)
    .map(v => `${v.url} ${v.width}w`)
    .join(', ');
}
