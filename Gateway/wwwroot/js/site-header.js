// The header every page shows, defined once: the brand and one of two menus. A page says which with
// <site-header menu="shop|admin">; the link to the page itself is marked as the current one.
const menus = {
  shop: [['/', 'Shop'], ['/orders.html', 'My orders'], ['/admin.html', 'Admin'], ['/cart.html', 'Cart']],
  admin: [['/', 'Shop'], ['/admin.html', 'Admin'], ['/admin/jobs.html', 'Jobs']],
};

function link(href, text) {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  const here = location.pathname === '/index.html' ? '/' : location.pathname;
  if (href === here) a.setAttribute('aria-current', 'page');
  if (href === '/cart.html') {
    // cart.js keeps the count up to date.
    a.className = 'cart-link';
    a.dataset.testid = 'cart-link';
    a.append(' ');
    const count = document.createElement('span');
    count.id = 'cart-count';
    count.className = 'cart-count';
    count.dataset.testid = 'cart-count';
    count.textContent = '0';
    a.append(count);
  }
  return a;
}

customElements.define('site-header', class extends HTMLElement {
  connectedCallback() {
    const header = document.createElement('header');
    header.className = 'site-header';
    const brand = link('/', 'Reference Storefront');
    brand.className = 'brand';
    brand.removeAttribute('aria-current');
    const nav = document.createElement('nav');
    nav.setAttribute('aria-label', 'Main');
    nav.append(...(menus[this.getAttribute('menu')] ?? menus.shop).map(([href, text]) => link(href, text)));
    header.append(brand, nav);
    this.replaceWith(header);
  }
});
