import { getJson, formatPrice, stockText, pictureFor } from './shop.js';

const detailSizes = '(min-width: 900px) 560px, 92vw';
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

  const gallery = document.getElementById('gallery');
  const images = product.images?.length ? product.images : [null];
  gallery.replaceChildren(...images.map((image, i) => {
    const figure = document.createElement('figure');
    figure.append(pictureFor(image, { alt: product.name, sizes: detailSizes, eager: i === 0, testId: 'product-image' }));
    return figure;
  }));

  loading.hidden = true;
  document.getElementById('product').hidden = false;
}

load();
