// The cart lives in this browser (localStorage), so it survives a reload; stock is held on the
// server only from checkout on, under the cart token the server issued to this browser.
import { getJson, problemFrom } from './shop.js';

const linesKey = 'shop.cart.lines';
const tokenKey = 'shop.cart.token';
export const maxPerLine = 10;

export function cartLines() {
  try {
    const lines = JSON.parse(localStorage.getItem(linesKey) ?? '[]');
    return Array.isArray(lines) ? lines.filter(l => l && typeof l.productId === 'string' && l.quantity > 0) : [];
  } catch {
    return [];
  }
}

function save(lines) {
  localStorage.setItem(linesKey, JSON.stringify(lines));
  renderBadge();
}

/** Adds to a line (or makes one), never past the per-line limit; returns the line's new quantity. */
export function addToCart(product, quantity) {
  const lines = cartLines();
  let line = lines.find(l => l.productId === product.id);
  if (!line) {
    line = { productId: product.id, quantity: 0 };
    lines.push(line);
  }
  Object.assign(line, { name: product.name, sku: product.sku, price: product.price, currency: product.currency });
  line.quantity = Math.min(maxPerLine, line.quantity + quantity);
  save(lines);
  return line.quantity;
}

export function setQuantity(productId, quantity) {
  save(cartLines().map(l => (l.productId === productId ? { ...l, quantity } : l)));
}

export function removeLine(productId) {
  save(cartLines().filter(l => l.productId !== productId));
}

export function clearCart() {
  save([]);
}

export function itemCount() {
  return cartLines().reduce((sum, l) => sum + l.quantity, 0);
}

export function renderBadge() {
  const badge = document.getElementById('cart-count');
  if (badge) {
    const count = itemCount();
    badge.textContent = String(count);
    badge.dataset.count = String(count);
  }
}

/** This browser's cart token, asked for once; a token the server no longer accepts is replaced. */
export async function cartToken(renew = false) {
  let token = renew ? null : localStorage.getItem(tokenKey);
  if (!token) {
    token = (await getJson('/api/inventory/carts', { method: 'POST' })).cartToken;
    localStorage.setItem(tokenKey, token);
  }
  return token;
}

/** fetch with the cart token, and one retry with a new token if the server refuses this one. */
export async function cartFetch(url, options = {}) {
  const send = async token => fetch(url, {
    ...options,
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-Cart-Token': token, ...(options.headers ?? {}) },
  });
  let response = await send(await cartToken());
  if (response.status === 401) {
    response = await send(await cartToken(true));
  }
  return response;
}

export async function cartJson(url, options = {}) {
  const response = await cartFetch(url, options);
  if (!response.ok) {
    throw await problemFrom(response);
  }
  return response.status === 204 ? null : response.json();
}

renderBadge();
window.addEventListener('storage', renderBadge);
