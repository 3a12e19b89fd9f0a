// What the channel tabs share: a form whose controls sit in one fieldset,
// disabled for supervisors (read-only, no Save button, O5), and a Save
// that shows the server's error at the field it names.

import { api } from '../../api.js';
import { el, say, clearErrors, showError } from '../form.js';

/**
 * Builds `<form>` in `panel` around the controls `fill(fieldset)` adds; on
 * Save, `save()` runs (it calls the API); its error lands at its field
 * (`onError(form, err)`, showError by default).
 */
export function tabForm(panel, ctx, fill, save, onError = showError) {
  const form = el('form', null, 'settings-form');
  form.noValidate = true;
  form.setAttribute('aria-label', panel.querySelector('h2') ? panel.querySelector('h2').textContent : 'Settings');
  const box = el('fieldset', null, 'plain');
  const legend = el('legend', `${ctx.channel.name}: ${form.getAttribute('aria-label')}`, 'visually-hidden');
  box.append(legend);
  fill(box);
  box.disabled = !ctx.editable;
  form.append(box);
  if (ctx.editable) {
    const button = el('button', 'Save');
    button.type = 'submit';
    const actions = el('div', null, 'actions');
    actions.append(button);
    form.append(actions);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(form);
      button.disabled = true;
      try {
        await save();
        say('Saved.', true);
      } catch (err) {
        onError(form, err);
      } finally {
        button.disabled = false;
      }
    });
  }
  panel.append(form);
  return form;
}

/** Saves channel fields (PATCH /channels/{id}); `config` changes merge into the stored config. */
export async function patchChannel(ctx, patch) {
  const body = { ...patch };
  if (patch.config) body.config = { ...(ctx.channel.config || {}), ...patch.config };
  ctx.channel = await api('PATCH', `/channels/${ctx.channel.id}`, body);
  return ctx.channel;
}

/** A checkbox with its label after it. */
export function checkbox(text, name, checked, hint) {
  const label = el('label', null, 'check');
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.name = name;
  box.dataset.field = name;
  box.checked = Boolean(checked);
  box.id = `c-${name.replace(/\W/g, '-')}`;
  label.htmlFor = box.id;
  label.append(box, el('span', text));
  if (hint) {
    const note = el('p', hint, 'hint');
    note.id = `${box.id}-hint`;
    box.setAttribute('aria-describedby', note.id);
    label.append(note);
  }
  return label;
}

/** A group of radio buttons: `options` are `[value, text, hint]`. */
export function radios(legendText, name, options, chosen) {
  const group = el('fieldset');
  group.append(el('legend', legendText));
  for (const [value, text, hint] of options) {
    const label = el('label', null, 'check');
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = name;
    radio.value = value;
    radio.dataset.field = name;
    radio.id = `r-${name}-${value}`;
    radio.checked = value === chosen;
    label.htmlFor = radio.id;
    label.append(radio, el('span', text));
    if (hint) label.append(el('span', ` — ${hint}`, 'hint'));
    group.append(label);
  }
  return group;
}

/** The checked radio's value in `form`. */
export function radioValue(root, name) {
  const checked = root.querySelector(`input[name="${name}"]:checked`);
  return checked ? checked.value : null;
}
