import { formatPrice } from './shop.js';
import { cartJson } from './cart.js';

const statusText = { AwaitingPayment: 'Awaiting payment', Paid: 'Paid', Cancelled: 'Cancelled' };
const id = new URLSearchParams(location.search).get('id');
const list = document.getElementById('orders');

async function load() {
  try {
    if (id && /^[0-9a-fA-F-]{36}$/.test(id)) {
      showConfirmation(await cartJson(`/api/inventory/orders/${encodeURIComponent(id)}`));
    }
    const orders = await cartJson('/api/inventory/orders/mine');
    document.getElementById('orders-empty').hidden = orders.length > 0;
    list.replaceChildren(...orders.map(order => {
      const item = document.createElement('li');
      item.dataset.testid = 'my-order';
      item.dataset.orderId = order.id;
      const date = new Date(order.createdAt).toLocaleString();
      const lines = order.lines.map(l => `${l.quantity} × ${l.name}`).join(', ');
      item.textContent = `${order.number} · ${date} · ${statusText[order.status] ?? order.status} · ${formatPrice(order.total, order.currency)} · ${lines}`;
      return item;
    }));
  } catch (e) {
    const error = document.getElementById('orders-error');
    error.textContent = e.status === 404 ? 'That order was not placed from this browser.' : `Orders could not be loaded: ${e.message}`;
    error.hidden = false;
  }
}

function showConfirmation(order) {
  document.getElementById('order-number').textContent = order.number;
  document.getElementById('order-body').replaceChildren(...order.lines.map(line => {
    const row = document.createElement('tr');
    row.dataset.testid = 'order-line';
    row.dataset.productId = line.productId;
    row.dataset.quantity = String(line.quantity);
    for (const text of [line.name, formatPrice(line.unitPrice, order.currency), String(line.quantity), formatPrice(line.lineTotal, order.currency)]) {
      const td = document.createElement('td');
      td.textContent = text;
      row.append(td);
    }
    return row;
  }));
  document.getElementById('order-total').textContent = formatPrice(order.total, order.currency);
  document.getElementById('orders-heading').textContent = 'All your orders';
  document.getElementById('confirmation').hidden = false;
}

load();
