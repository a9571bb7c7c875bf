// The admin page's order desk: list orders, record a payment, cancel (the units go back on-hand).
import { getJson, formatPrice } from './shop.js';
import { adminKey } from './admin-key.js';

const statusText = { AwaitingPayment: 'Awaiting payment', Paid: 'Paid', Cancelled: 'Cancelled' };
const body = document.getElementById('orders-body');
const message = document.getElementById('orders-message');
const filter = document.getElementById('order-status');

async function load() {
  if (!adminKey()) {
    message.textContent = 'Enter the admin key above to see orders.';
    message.dataset.state = 'error';
    return;
  }
  try {
    const params = new URLSearchParams({ pageSize: '50' });
    if (filter.value) params.set('status', filter.value);
    const page = await getJson(`/api/inventory/orders?${params}`, { headers: { Accept: 'application/json', 'X-Api-Key': adminKey() } });
    body.replaceChildren(...page.items.map(row));
    message.textContent = `${page.total} order${page.total === 1 ? '' : 's'}${page.total > page.items.length ? `, newest ${page.items.length} shown` : ''}.`;
    message.dataset.state = '';
  } catch (e) {
    message.textContent = `Orders could not be loaded: ${e.message}`;
    message.dataset.state = 'error';
  }
}

function row(order) {
  const tr = document.createElement('tr');
  tr.dataset.testid = 'admin-order';
  tr.dataset.orderId = order.id;
  const lines = order.lines.map(l => `${l.quantity} × ${l.name} (${l.sku})`).join(', ');
  for (const text of [order.number, new Date(order.createdAt).toLocaleString(), `${order.customerName} <${order.customerEmail}>`, lines,
    formatPrice(order.total, order.currency), statusText[order.status] ?? order.status]) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  const actions = document.createElement('td');
  if (order.status === 'AwaitingPayment') actions.append(action(order, 'paid', 'Mark paid'));
  if (order.status !== 'Cancelled') actions.append(action(order, 'cancel', 'Cancel'));
  tr.append(actions);
  return tr;
}

function action(order, verb, label) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'secondary';
  button.textContent = label;
  button.dataset.testid = `order-${verb}`;
  button.addEventListener('click', async () => {
    if (verb === 'cancel' && !confirm(`Cancel order ${order.number}? Its units go back on sale.`)) return;
    button.disabled = true;
    try {
      await getJson(`/api/inventory/orders/${encodeURIComponent(order.id)}/${verb}`,
        { method: 'POST', headers: { Accept: 'application/json', 'X-Api-Key': adminKey() } });
      await load();
    } catch (e) {
      message.textContent = `${label} failed: ${e.message}`;
      message.dataset.state = 'error';
      button.disabled = false;
    }
  });
  return button;
}

document.getElementById('orders-form').addEventListener('submit', e => { e.preventDefault(); load(); });
load();
