import { getJson, formatPrice } from './shop.js';
import { cartLines, setQuantity, removeLine, maxPerLine } from './cart.js';

const body = document.getElementById('cart-body');
const table = document.getElementById('cart-table');
const empty = document.getElementById('cart-empty');
const error = document.getElementById('cart-error');
const checkout = document.getElementById('checkout');

// Prices and stock as they are now, not as they were when the line was added.
const current = new Map();

async function refresh() {
  await Promise.all(cartLines().map(async line => {
    try {
      current.set(line.productId, await getJson(`/api/inventory/products/${encodeURIComponent(line.productId)}`));
    } catch (e) {
      current.set(line.productId, e.status === 404 ? { gone: true } : null);
    }
  }));
  render();
}

function render() {
  const lines = cartLines();
  empty.hidden = lines.length > 0;
  table.hidden = checkout.hidden = lines.length === 0;
  const problems = [];
  let total = 0;
  let currency = lines[0]?.currency ?? 'EUR';
  body.replaceChildren(...lines.map(line => {
    const product = current.get(line.productId);
    const price = product && !product.gone ? product.price : line.price;
    currency = product?.currency ?? line.currency ?? currency;
    total += price * line.quantity;
    const row = document.createElement('tr');
    row.dataset.testid = 'cart-line';
    row.dataset.productId = line.productId;

    const name = document.createElement('td');
    const link = document.createElement('a');
    link.href = `/product.html?id=${encodeURIComponent(line.productId)}`;
    link.textContent = line.name ?? line.sku ?? 'Product';
    name.append(link);
    if (product?.gone) {
      problems.push(`${line.name} is no longer sold; remove it to check out.`);
      name.append(' (no longer sold)');
    } else if (product && product.stock.available < line.quantity) {
      problems.push(`${line.name}: only ${product.stock.available} in stock.`);
    }

    const quantity = document.createElement('input');
    quantity.type = 'number';
    quantity.min = '1';
    quantity.max = String(maxPerLine);
    quantity.value = String(line.quantity);
    quantity.setAttribute('aria-label', `Quantity of ${line.name}`);
    quantity.dataset.testid = 'cart-quantity';
    quantity.addEventListener('change', () => {
      const wanted = Number(quantity.value);
      if (!Number.isInteger(wanted) || wanted < 1 || wanted > maxPerLine) {
        error.textContent = `Choose a quantity from 1 to ${maxPerLine}, or remove the line.`;
        error.hidden = false;
        quantity.value = String(line.quantity);
        return;
      }
      error.hidden = true;
      setQuantity(line.productId, wanted);
      render();
    });

    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'secondary';
    remove.textContent = 'Remove';
    remove.dataset.testid = 'cart-remove';
    remove.addEventListener('click', () => { removeLine(line.productId); render(); });

    row.append(name, cell(formatPrice(price, currency)), wrap(quantity), cell(formatPrice(price * line.quantity, currency)), wrap(remove));
    return row;
  }));
  document.getElementById('cart-total').textContent = formatPrice(total, currency);
  if (problems.length) {
    error.textContent = problems.join(' ');
    error.hidden = false;
  }
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function wrap(node) {
  const td = document.createElement('td');
  td.append(node);
  return td;
}

render();
refresh();
