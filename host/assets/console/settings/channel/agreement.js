// Channel tab · Agreement (G1): whether customers must accept a notice
// before the chat goes on, its text and version; saved as `consent` in the
// channel's config. Raising the version asks everybody again.

import { el, field, input, showError, clearErrors, say } from '../form.js';
import { patchConfig, readOnly, buttons, button } from './config.js';

export async function render(panel, ctx) {
  const { channel, editable } = ctx;
  const config = (channel.config && typeof channel.config === 'object') ? channel.config : {};
  const consent = config.consent || null;

  const form = el('form', null, 'settings-form');
  form.noValidate = true;
  const on = input({ type: 'checkbox', checked: Boolean(consent) });
  const onLabel = field('Ask customers to accept an agreement before the chat goes on', on, { name: 'config.consent' });
  onLabel.className = 'check';
  const text = document.createElement('textarea');
  text.rows = 6;
  text.value = consent ? consent.text : '';
  const version = input({ type: 'number', min: 1, step: 1, value: consent ? consent.version : 1 });
  const details = el('div', null, 'consent-details');
  details.append(
    field('Agreement text', text, { name: 'config.consent.text', hint: 'What customers read and accept; at most 4000 characters. Link to the full policy.' }),
    field('Version', version, { name: 'config.consent.version', hint: 'Raise it when the text changes in substance: earlier answers stop counting and customers are asked again.' }),
  );
  form.append(onLabel, details, buttons(button('Save agreement', 'submit')));
  panel.append(form);
  const sync = () => { details.hidden = !on.checked; };
  on.addEventListener('change', sync);
  sync();
  readOnly(form, editable);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      await patchConfig(channel.id, (c) => {
        if (on.checked) c.consent = { text: text.value, version: Number(version.value) || 0 };
        else delete c.consent;
      });
      say(on.checked ? 'Agreement saved.' : 'Customers are no longer asked to accept an agreement.', true);
    } catch (err) {
      showError(form, err);
    }
  });
}
