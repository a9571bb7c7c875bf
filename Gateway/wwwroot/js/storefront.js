import { getJson, formatPrice, stockText, pictureFor } from './shop.js';

const pageSize = 24;
const gridSizes = '(min-width: 1200px) 270px, (min-width: 900px) 30vw, (min-width: 560px) 45vw, 92vw';

const search = document.getElementById('search');
const category = document.getElementById('category');
const grid = document.getElementById('grid');
const count = document.getElementById('result-count');
const empty = document.getElementById('empty');
const error = document.getElementById('error');
const prev = document.getElementById('prev');
const next = document.getElementById('next');
const pageInfo = document.getElementById('page-info');
const template = document.getElementById('card-template');

// The URL holds the state (q, category, page), so results can be shared and Back works.
function readState() {
  const params = new URLSearchParams(location.search);
  return {
    q: params.get('q') ?? '',
    category: params.get('category') ?? '',
    page: Math.max(1, parseInt(params.get('page') ?? '1', 10) || 1),
  };
}

function writeState(state, replace) {
  const params = new URLSearchParams();
  if (state.q) params.set('q', state.q);
  if (state.category) params.set('category', state.category);
  if (state.page > 1) params.set('page', String(state.page));
  const url = params.size ? `?${params}` : location.pathname;
  (replace ? history.replaceState : history.pushState).call(history, null, '', url);
}

let loadCounter = 0;

async function load() {
  const state = readState();
  search.value = state.q;
  category.value = state.category;
  const mine = ++loadCounter;
  grid.setAttribute('aria-busy', 'true');
  error.hidden = true;

  const params = new URLSearchParams({ page: String(state.page), pageSize: String(pageSize) });
  if (state.q) params.set('q', state.q);
  if (state.category) params.set('category', state.category);

  try {
    const result = await getJson(`/api/inventory/products?${params}`);
    if (mine !== loadCounter) return; // a newer search won the race
    render(result, state);
  } catch (e) {
    if (mine !== loadCounter) return;
    grid.replaceChildren();
    error.textContent = `Products could not be loaded: ${e.message}`;
    error.hidden = false;
  } finally {
    if (mine === loadCounter) grid.setAttribute('aria-busy', 'false');
  }
}

function render(result, state) {
  const items = result.items ?? [];
  grid.replaceChildren(...items.map(card));
  empty.hidden = items.length > 0;
  const total = result.total ?? items.length;
  count.textContent = `${total} product${total === 1 ? '' : 's'}`;
  const pages = Math.max(1, Math.ceil(total / (result.pageSize || pageSize)));
  pageInfo.textContent = `Page ${state.page} of ${pages}`;
  prev.disabled = state.page <= 1;
  next.disabled = state.page >= pages;
}

function card(product) {
  const node = template.content.firstElementChild.cloneNode(true);
  node.dataset.productId = product.id;
  node.dataset.sku = product.sku;
  const link = node.querySelector('.card-link');
  link.href = `/product.html?id=${encodeURIComponent(product.id)}`;
  node.querySelector('.card-media').append(
    pictureFor(product.images?.[0], { alt: product.name, sizes: gridSizes, testId: 'product-card-image' }));
  node.querySelector('.card-name').textContent = product.name;
  node.querySelector('.card-category').textContent = product.category;
  node.querySelector('.card-price').textContent = formatPrice(product.price, product.currency);
  const stock = node.querySelector('.card-stock');
  stock.textContent = stockText(product.stock);
  stock.classList.toggle('out', (product.stock?.available ?? 0) <= 0);
  return node;
}

async function loadCategories() {
  try {
    const categories = await getJson('/api/inventory/categories');
    for (const name of categories ?? []) {
      category.append(new Option(name, name));
    }
    category.value = readState().category;
  } catch {
    // The grid still works without the filter; leave "All categories".
  }
}

let typing;
search.addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(() => {
    writeState({ ...readState(), q: search.value.trim(), page: 1 }, true);
    load();
  }, 250);
});
category.addEventListener('change', () => {
  writeState({ ...readState(), category: category.value, page: 1 }, false);
  load();
});
document.getElementById('filters').addEventListener('submit', e => {
  e.preventDefault();
  clearTimeout(typing);
  writeState({ ...readState(), q: search.value.trim(), page: 1 }, false);
  load();
});
prev.addEventListener('click', () => { writeState({ ...readState(), page: readState().page - 1 }, false); load(); });
next.addEventListener('click', () => { writeState({ ...readState(), page: readState().page + 1 }, false); load(); });
window.addEventListener('popstate', load);

loadCategories();
load();
