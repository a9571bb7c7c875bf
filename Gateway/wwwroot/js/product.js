import { getJson, formatPrice, stockText, pictureFor } from './shop.js';
import { addToCart, maxPerLine } from './cart.js';

const detailSizes = '(min-width: 900px) 560px, 92vw';
const thumbSizes = '96px';
const id = new URLSearchParams(location.search).get('id') ?? '';
const loading = document.getElementById('loading');
const error = document.getElementById('error');

async function load() {
  if (!/^[0-9a-fA-F-]{36}$/.test(id)) {
    return fail('No product was chosen.');
  }
  try {
    const product = await getJson(`/api/inventory/products/${encodeURIComponent(id)}`);
    render(product);
  } catch (e) {
    fail(e.status === 404 ? 'This product does not exist (any more).' : `The product could not be loaded: ${e.message}`);
  }
}

function fail(message) {
  loading.hidden = true;
  error.textContent = message;
  error.hidden = false;
  error.dataset.testid = 'product-not-found';
}

function render(product) {
  document.title = `${product.name} · Reference Storefront`;
  document.getElementById('name').textContent = product.name;
  document.getElementById('category').textContent = product.category;
  document.getElementById('price').textContent = formatPrice(product.price, product.currency);
  const stock = document.getElementById('stock');
  stock.textContent = stockText(product.stock);
  stock.classList.toggle('out', (product.stock?.available ?? 0) <= 0);
  document.getElementById('sku').textContent = `SKU ${product.sku}`;
  document.getElementById('description').textContent = product.description ?? '';

  renderGallery(product);
  const available = product.stock?.available ?? 0;
  stock.dataset.available = String(available);
  const quantity = document.getElementById('quantity');
  quantity.max = String(Math.max(1, Math.min(maxPerLine, available)));
  document.getElementById('add').disabled = available <= 0;
  document.getElementById('add-form').onsubmit = e => {
    e.preventDefault();
    const status = document.getElementById('add-status');
    const wanted = Number(quantity.value);
    if (!Number.isInteger(wanted) || wanted < 1) {
      status.textContent = 'Choose a quantity of at least 1.';
      status.dataset.state = 'error';
      return;
    }
    if (wanted > available) {
      status.textContent = `Only ${available} in stock.`;
      status.dataset.state = 'error';
      return;
    }
    const inCart = addToCart(product, wanted);
    status.textContent = `In your cart: ${inCart}.`;
    status.dataset.state = 'added';
  };

  loading.hidden = true;
  document.getElementById('product').hidden = false;
}

/** One large image and a row of thumbnails that switch it; each a <picture> with the variants' srcset. */
function renderGallery(product) {
  const gallery = document.getElementById('gallery');
  const images = product.images?.length ? product.images : [null];
  const main = document.createElement('figure');
  main.className = 'gallery-main';
  const show = i => {
    main.replaceChildren(pictureFor(images[i], { alt: product.name, sizes: detailSizes, eager: true, testId: 'product-image' }));
    thumbs.querySelectorAll('button').forEach((b, j) => b.setAttribute('aria-pressed', String(i === j)));
  };
  const thumbs = document.createElement('div');
  thumbs.className = 'gallery-thumbs';
  thumbs.hidden = images.length < 2;
  images.forEach((image, i) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'thumb';
    button.dataset.testid = 'gallery-thumb';
    button.setAttribute('aria-label', `Show image ${i + 1} of ${images.length}`);
    button.append(pictureFor(image, { alt: '', sizes: thumbSizes, testId: 'gallery-thumb-image' }));
    button.addEventListener('click', () => show(i));
    thumbs.append(button);
  });
  gallery.replaceChildren(main, thumbs);
  show(0);
}

load();
