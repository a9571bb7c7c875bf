// The admin key of the admin pages. It lives only for this tab (sessionStorage): closing the tab forgets it.
const keyStorage = 'reference.adminKey';

export const adminKey = () => sessionStorage.getItem(keyStorage);

export const forgetKey = () => sessionStorage.removeItem(keyStorage);

/** Keeps the key typed into a page's key form for this tab, clears the field, then calls onSet. */
export function onKeyForm(form, input, onSet) {
  form.addEventListener('submit', e => {
    e.preventDefault();
    sessionStorage.setItem(keyStorage, input.value.trim());
    input.value = '';
    onSet();
  });
}
