// Building blocks the settings pages share: the status line, labelled
// fields, and showing the server's error at the field it names (U1).
//
// The API's validation messages start with the field they are about
// (`name: must be 1 to 100 characters`, `config.callback_url must be ...`);
// `showError` puts such a message under that field and marks it invalid.

const $ = (id) => document.getElementById(id);

let statusTimer = null;
/** Shows a message in the status line; `ok` for a success. */
export function say(message, ok = false) {
  const box = $('status');
  box.textContent = message;
  box.classList.toggle('ok', ok);
  box.hidden = false;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => { box.hidden = true; }, ok ? 2500 : 8000);
}

/** An element with text content and an optional class. */
export function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

/** A page heading. */
export function heading(text, level = 1) {
  return el(`h${level}`, text);
}

let fieldCount = 0;
/**
 * A labelled control: `<label>text <input …></label>` plus an optional hint
 * tied to it with `aria-describedby`; `name` is the API field it edits.
 */
export function field(text, control, { name, hint } = {}) {
  const label = el('label', text);
  control.dataset.field = name || control.name || '';
  if (!control.id) control.id = `f${++fieldCount}`;
  label.htmlFor = control.id;
  label.append(control);
  if (hint) {
    const note = el('p', hint, 'hint');
    note.id = `${control.id}-hint`;
    control.setAttribute('aria-describedby', note.id);
    label.append(note);
  }
  return label;
}

/** An `<input>` with attributes. */
export function input(attrs = {}) {
  const node = document.createElement('input');
  for (const [key, value] of Object.entries(attrs)) {
    if (value === true) node.setAttribute(key, '');
    else if (value !== false && value !== undefined && value !== null) node.setAttribute(key, value);
  }
  return node;
}

/** A `<select>` of `[value, text]` options with `selected` chosen. */
export function select(options, selected) {
  const node = document.createElement('select');
  for (const [value, text] of options) {
    const option = el('option', text);
    option.value = value;
    option.selected = String(value) === String(selected);
    node.append(option);
  }
  return node;
}

/** Removes the errors a previous save left in `form`. */
export function clearErrors(form) {
  for (const old of form.querySelectorAll('.field-error')) old.remove();
  for (const bad of form.querySelectorAll('[aria-invalid]')) {
    bad.removeAttribute('aria-invalid');
    const described = (bad.getAttribute('aria-describedby') || '').split(' ').filter((id) => !id.endsWith('-error'));
    if (described.length) bad.setAttribute('aria-describedby', described.join(' '));
    else bad.removeAttribute('aria-describedby');
  }
}

/**
 * Shows an API error: under the field whose name starts its message, or in
 * the status line when it names none. Focuses the field.
 */
export function showError(form, err) {
  clearErrors(form);
  const message = err.message || String(err);
  const controls = [...form.querySelectorAll('[data-field]')].filter((c) => c.dataset.field);
  // The longest matching name wins (`config.callback_url` over `config`).
  controls.sort((a, b) => b.dataset.field.length - a.dataset.field.length);
  const target = controls.find((c) => message.startsWith(c.dataset.field));
  if (!target) {
    say(message);
    return;
  }
  const note = el('p', message, 'field-error');
  note.id = `${target.id}-error`;
  target.setAttribute('aria-invalid', 'true');
  const described = target.getAttribute('aria-describedby');
  target.setAttribute('aria-describedby', described ? `${described} ${note.id}` : note.id);
  target.closest('label').append(note);
  target.focus();
}
