// Channel tab · Quality assessment (Q1, Q2): ask the customer for a rating
// when a session closes, and close at once when the rating arrives. Both
// are queue options (`ask_rating`, `close_on_rating`): the tab reads the
// channel's queue and saves it back with only these two changed.
// What the customer is asked and thanked with is the "ask_rating" and
// "rating_received" auto-actions.

import { api } from '../../api.js';
import { el, field, input, showError, clearErrors, say } from '../form.js';
import { readOnly, buttons, button } from './config.js';

export async function render(panel, ctx) {
  const { channel, editable } = ctx;
  const path = `/channels/${encodeURIComponent(channel.id)}/queue`;
  const queue = await api('GET', path);
  const options = queue.options || {};

  const form = el('form', null, 'settings-form');
  form.noValidate = true;
  const ask = input({ type: 'checkbox', checked: Boolean(options.ask_rating) });
  const askLabel = field('Ask the customer to rate the conversation when it closes (Q1)', ask, { name: 'options.ask_rating' });
  askLabel.className = 'check';
  const close = input({ type: 'checkbox', checked: Boolean(options.close_on_rating) });
  const closeLabel = field('Close the session as soon as the rating arrives (Q2)', close, { name: 'options.close_on_rating' });
  closeLabel.className = 'check';
  const note = el('p', null, 'hint');
  note.append('The request and the thanks are the "ask_rating" and "rating_received" scripts on the ');
  const link = el('a', 'Auto-actions');
  link.href = `#channel/${channel.id}/scripts`;
  note.append(link, ' tab.');
  form.append(askLabel, closeLabel, note, buttons(button('Save quality assessment', 'submit')));
  panel.append(form);
  readOnly(form, editable);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      // The newest queue, so a change made on the Queue tab meanwhile stays.
      const fresh = await api('GET', path);
      fresh.options = { ...(fresh.options || {}), ask_rating: ask.checked, close_on_rating: close.checked };
      await api('PUT', path, fresh);
      say('Quality assessment saved.', true);
    } catch (err) {
      showError(form, err);
    }
  });
}
