// Channel tab · Canned responses (A6): named lists of responses agents of
// this channel insert by name or by typing their shortcut (`/refund`).
// GET/PUT /channels/{id}/canned; the server checks names, shortcuts, texts
// and names the one it refuses (`lists[0]: responses[2].shortcut: ...`).

import { api } from '../../api.js';
import { el, field, input, showError, clearErrors, say } from '../form.js';
import { readOnly, buttons, button } from './config.js';

function responseRow(response = { name: '', shortcut: '', text: '' }) {
  const row = el('fieldset', null, 'canned-response');
  row.append(el('legend', response.name || 'New response'));
  const name = input({ type: 'text', value: response.name, class: 'r-name' });
  const shortcut = input({ type: 'text', value: response.shortcut, placeholder: '/refund', class: 'r-shortcut' });
  const text = document.createElement('textarea');
  text.rows = 3;
  text.className = 'r-text';
  text.value = response.text;
  const remove = button('Remove this response');
  remove.addEventListener('click', () => row.remove());
  row.append(field('Name', name), field('Shortcut', shortcut), field('Text', text), remove);
  return row;
}

function listBox(list = { name: '', responses: [] }) {
  const box = el('fieldset', null, 'canned-list');
  box.append(el('legend', `List: ${list.name || 'new'}`));
  const name = input({ type: 'text', value: list.name, class: 'l-name' });
  const rows = el('div', null, 'canned-responses');
  for (const r of list.responses) rows.append(responseRow(r));
  const add = button('Add a response');
  add.addEventListener('click', () => {
    rows.append(responseRow());
    rows.lastElementChild.querySelector('input').focus();
  });
  const remove = button('Remove this list');
  remove.addEventListener('click', () => box.remove());
  box.append(field('List name', name), rows, buttons(add, remove));
  return box;
}

/** The lists the form describes; names each control after its API field. */
function collect(lists) {
  return [...lists.children].map((box, i) => {
    const name = box.querySelector('.l-name');
    name.dataset.field = `lists[${i}]: name`;
    const responses = [...box.querySelectorAll('.canned-response')].map((row, j) => {
      const at = `lists[${i}]: responses[${j}]`;
      const get = (cls, key) => {
        const control = row.querySelector(cls);
        control.dataset.field = `${at}.${key}`;
        return control.value;
      };
      return { name: get('.r-name', 'name'), shortcut: get('.r-shortcut', 'shortcut').trim(), text: get('.r-text', 'text') };
    });
    return { name: name.value, responses };
  });
}

export async function render(panel, ctx) {
  const { channel, editable } = ctx;
  const canned = await api('GET', `/channels/${encodeURIComponent(channel.id)}/canned`);
  panel.append(el('p', 'Agents of this channel insert these by name, or by typing the shortcut in the reply box.', 'hint'));
  const form = el('form', null, 'settings-form');
  form.noValidate = true;
  const lists = el('div', null, 'canned-lists');
  for (const list of canned.lists) lists.append(listBox(list));
  if (canned.lists.length === 0) lists.append(listBox({ name: 'General', responses: [] }));
  const addList = button('Add a list');
  addList.addEventListener('click', () => {
    lists.append(listBox());
    lists.lastElementChild.querySelector('input').focus();
  });
  form.append(lists, buttons(addList, button('Save canned responses', 'submit')));
  panel.append(form);
  readOnly(form, editable);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      const saved = await api('PUT', `/channels/${encodeURIComponent(channel.id)}/canned`, { lists: collect(lists) });
      const count = saved.lists.reduce((n, l) => n + l.responses.length, 0);
      say(`Canned responses saved: ${count} in ${saved.lists.length} list(s).`, true);
    } catch (err) {
      showError(form, err);
    }
  });
}
