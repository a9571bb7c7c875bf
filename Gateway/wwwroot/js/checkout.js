import { formatPrice } from './shop.js';
import { cartLines, cartJson, clearCart } from './cart.js';

const status = document.getElementById('hold-status');
const error = document.getElementById('checkout-error');
const form = document.getElementById('checkout-form');
const placeButton = document.getElementById('place-order');
// One key for this checkout: a double click or a retry after a lost reply places one order.
const idempotencyKey = sessionStorage.getItem('shop.checkout.key') ?? crypto.randomUUID();
sessionStorage.setItem('shop.checkout.key', idempotencyKey);
let expiresAt = null;
let timer;

async function hold() {
  const lines = cartLines();
  if (lines.length === 0) {
    status.textContent = 'Your cart is empty.';
    return false;
  }
  try {
    const held = await cartJson('/api/inventory/cart/hold', {
      method: 'PUT',
      body: JSON.stringify({ lines: lines.map(l => ({ productId: l.productId, quantity: l.quantity })) }),
    });
    expiresAt = new Date(held.expiresAt);
    render(lines);
    tick();
    clearInterval(timer);
    timer = setInterval(tick, 1000);
    error.hidden = true;
    form.hidden = false;
    return true;
  } catch (e) {
    form.hidden = true;
    status.textContent = 'Your items are not held.';
    status.dataset.state = 'error';
    showError(describe(e, lines));
    return false;
  }
}

/** Says which line is short (or gone) when stock was refused, else the server's own words. */
function describe(e, lines) {
  const shortLines = e.problem?.shortLines ?? [];
  if (shortLines.length) {
    const name = id => lines.find(l => l.productId === id)?.name ?? 'A product';
    return shortLines.map(s => s.exists === false
      ? `${name(s.productId)} is no longer sold; remove it from your cart.`
      : `${name(s.productId)}: you asked for ${s.requested}, only ${s.available} available. Change it in your cart.`).join(' ');
  }
  return e.problem?.detail ?? e.message;
}

function showError(message) {
  error.replaceChildren(message + ' ');
  const back = document.createElement('a');
  back.href = '/cart.html';
  back.textContent = 'Back to the cart';
  error.append(back);
  error.hidden = false;
}

function tick() {
  const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
  status.dataset.state = left > 0 ? 'held' : 'expired';
  status.textContent = left > 0
    ? `Your items are held for ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}.`
    : 'The hold has expired; placing the order holds your items again if they are still in stock.';
}

function render(lines) {
  const currency = lines[0]?.currency ?? 'EUR';
  let total = 0;
  document.getElementById('checkout-body').replaceChildren(...lines.map(line => {
    total += line.price * line.quantity;
    const row = document.createElement('tr');
    row.dataset.testid = 'checkout-line';
    for (const text of [line.name, formatPrice(line.price, currency), String(line.quantity), formatPrice(line.price * line.quantity, currency)]) {
      const td = document.createElement('td');
      td.textContent = text;
      row.append(td);
    }
    return row;
  }));
  document.getElementById('checkout-total').textContent = formatPrice(total, currency);
  document.getElementById('checkout-lines').hidden = false;
}

function validate() {
  const checks = [
    ['name', v => v.trim().length > 0 && v.trim().length <= 100, 'Enter your name.'],
    ['email', v => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v.trim()), 'Enter an email address such as name@example.com.'],
  ];
  let ok = true;
  for (const [field, valid, message] of checks) {
    const input = document.getElementById(field);
    const bad = !valid(input.value);
    input.setAttribute('aria-invalid', String(bad));
    document.getElementById(`${field}-error`).textContent = bad ? message : '';
    ok &&= !bad;
  }
  return ok;
}

async function place() {
  const order = await cartJson('/api/inventory/orders', {
    method: 'POST',
    headers: { 'Idempotency-Key': idempotencyKey },
    body: JSON.stringify({ name: document.getElementById('name').value, email: document.getElementById('email').value }),
  });
  clearCart();
  sessionStorage.removeItem('shop.checkout.key');
  location.assign(`/orders.html?id=${encodeURIComponent(order.id)}`);
}

// Once a message is showing, it follows the typing, so a fixed field does not still look wrong.
form.addEventListener('input', () => {
  if (form.querySelector('[aria-invalid=true]')) validate();
});

form.addEventListener('submit', async e => {
  e.preventDefault();
  if (!validate() || placeButton.disabled) return;
  placeButton.disabled = true;
  placeButton.textContent = 'Placing order…';
  try {
    try {
      await place();
    } catch (err) {
      // The hold ran out: hold again (the same lines, if stock allows) and place once more.
      if (err.problem?.reason !== 'hold-expired' && err.problem?.reason !== 'no-hold') throw err;
      if (await hold()) await place();
    }
  } catch (err) {
    if (err.problem?.errors) {
      for (const [field, messages] of Object.entries(err.problem.errors)) {
        const slot = document.getElementById(`${field}-error`);
        if (slot) slot.textContent = messages.join(' ');
      }
    }
    showError(`The order was not placed: ${err.problem?.detail ?? err.message}`);
    placeButton.disabled = false;
    placeButton.textContent = 'Place order';
  }
});

hold();
