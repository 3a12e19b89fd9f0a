// A plugin's channel config as a form, from the schema in its manifest
// (`GET /api/v1/channel-kinds`): one labelled control per field, typed,
// required fields marked, the manifest's description as the hint.
//
// Secret fields: the API shows a stored secret as `********` and keeps the
// stored value when `********` comes back, so the form shows the mask and
// sends it back unchanged unless the admin types a new value.

import { el, field, input, clearErrors, showError } from './form.js';

/** What the API shows in place of a stored secret. */
export const MASK = '********';

const TYPE_NAMES = {
  string: 'text',
  url: 'URL',
  integer: 'whole number',
  number: 'number',
  boolean: 'yes or no',
  'string-list': 'list, one per line',
};

function control(name, spec, value) {
  if (spec.type === 'boolean') {
    const box = input({ type: 'checkbox', name });
    box.checked = value === true;
    return box;
  }
  if (spec.type === 'string-list') {
    const area = document.createElement('textarea');
    area.name = name;
    area.rows = 3;
    area.value = Array.isArray(value) ? value.join('\n') : '';
    return area;
  }
  const type = spec.secret ? 'password'
    : spec.type === 'url' ? 'url'
      : spec.type === 'integer' || spec.type === 'number' ? 'number' : 'text';
  const box = input({
    type,
    name,
    autocomplete: spec.secret ? 'new-password' : 'off',
    step: spec.type === 'integer' ? '1' : spec.type === 'number' ? 'any' : null,
    min: type === 'number' && spec.min != null ? spec.min : null,
    max: type === 'number' && spec.max != null ? spec.max : null,
  });
  if (spec.required) box.setAttribute('aria-required', 'true');
  box.value = value === undefined || value === null ? '' : String(value);
  return box;
}

/**
 * Builds the fields of `schema` (`{name: {type, required, secret,
 * description, min, max}}`) with the values of `config`; returns
 * `{nodes, read}` where `read()` gives the config object to send (fields
 * left empty are left out; a secret still masked is sent as the mask).
 */
export function schemaFields(schema, config = {}, { disabled = false } = {}) {
  const nodes = [];
  const controls = [];
  for (const [name, spec] of Object.entries(schema || {})) {
    const box = control(`config.${name}`, spec, config[name]);
    box.disabled = disabled;
    const text = `${name}${spec.required ? ' (required)' : ''}`;
    const hint = [spec.description, `${TYPE_NAMES[spec.type] || spec.type}${spec.secret ? ', secret: kept as is while it shows ********' : ''}`]
      .filter(Boolean).join(' — ');
    const label = field(text, box, { name: `config.${name}`, hint });
    if (spec.type === 'boolean') label.classList.add('check');
    nodes.push(label);
    controls.push([name, spec, box]);
  }
  const read = () => {
    const out = {};
    for (const [name, spec, box] of controls) {
      if (spec.type === 'boolean') {
        out[name] = box.checked;
      } else if (spec.type === 'string-list') {
        const items = box.value.split('\n').map((s) => s.trim()).filter(Boolean);
        if (items.length) out[name] = items;
      } else if (box.value !== '') {
        const number = spec.type === 'integer' || spec.type === 'number';
        out[name] = number && !Number.isNaN(Number(box.value)) ? Number(box.value) : box.value;
      }
    }
    return out;
  };
  return { nodes, read };
}

/**
 * Shows an API error in `form`; a plugin's schema error names its field as
 * `config field "token": ...`, which goes under that field's control.
 */
export function showConfigError(form, err) {
  const message = err.message || String(err);
  const named = /config field "([^"]+)"/.exec(message);
  const target = named && form.querySelector(`[data-field="config.${CSS.escape(named[1])}"]`);
  if (!target) {
    showError(form, err);
    return;
  }
  clearErrors(form);
  const note = el('p', message, 'field-error');
  note.id = `${target.id}-error`;
  target.setAttribute('aria-invalid', 'true');
  const described = target.getAttribute('aria-describedby');
  target.setAttribute('aria-describedby', described ? `${described} ${note.id}` : note.id);
  target.closest('label').append(note);
  target.focus();
}
