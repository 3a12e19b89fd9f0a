// Shared by the channel tabs that edit parts of the channel's config JSON
// (working hours, agreement): PATCH /channels/{id} replaces the config whole,
// so each save reads the newest config first and changes only its own keys.

import { api } from '../../api.js';
import { el } from '../form.js';

/** Reads the channel's config, lets `change(config)` edit it, saves it. */
export async function patchConfig(id, change) {
  const fresh = await api('GET', `/channels/${encodeURIComponent(id)}`);
  const config = { ...(fresh.config && typeof fresh.config === 'object' ? fresh.config : {}) };
  change(config);
  return api('PATCH', `/channels/${encodeURIComponent(id)}`, { config });
}

/**
 * Read-only for supervisors (O5): every control in `form` disabled and its
 * buttons hidden, so nothing suggests a change could be saved.
 */
export function readOnly(form, editable) {
  if (editable) return;
  for (const control of form.querySelectorAll('input, select, textarea')) control.disabled = true;
  for (const button of form.querySelectorAll('button')) button.hidden = true;
}

/** The row of buttons under a form. */
export function buttons(...list) {
  const row = el('div', null, 'actions');
  row.append(...list);
  return row;
}

/** A button of `type` (default "button") with a text. */
export function button(text, type = 'button') {
  const node = el('button', text);
  node.type = type;
  return node;
}
