// Channel · CRM: when the channel makes leads (C2: config `leads`), whether
// a known contact's session goes to their responsible agent first (R14),
// and whether a transfer by hand makes the new agent responsible (C5); the
// last two are queue options, saved with the rest of the queue as read.

import { api } from '../../api.js';
import { tabForm, checkbox, radios, radioValue, patchChannel } from './tab_form.js';

const LEADS = [
  ['auto', 'Automatically', 'a lead for every new customer who can be reached again'],
  ['manual', 'By hand', 'when an agent clicks Create lead in the chat'],
  ['off', 'Off', 'never'],
];

export async function render(panel, ctx) {
  const id = ctx.channel.id;
  const queue = await api('GET', `/channels/${id}/queue`);
  const leads = (ctx.channel.config && ctx.channel.config.leads) || 'auto';
  const form = tabForm(panel, ctx, (box) => {
    const group = radios('Leads', 'config.leads', LEADS, leads);
    box.append(
      group,
      checkbox('Route to the responsible agent', 'options.route_to_responsible', queue.options.route_to_responsible,
        'R14: a known contact\'s new session is offered to the agent responsible for them first.'),
      checkbox('A transfer makes the new agent responsible', 'options.transfer_makes_responsible', queue.options.transfer_makes_responsible,
        'C5: off, the first agent who took a session stays responsible for the contact.'),
    );
  }, async () => {
    const checked = (name) => form.querySelector(`input[name="${name}"]`).checked;
    const chosen = radioValue(form, 'config.leads');
    if (chosen !== ((ctx.channel.config && ctx.channel.config.leads) || 'auto')) {
      await patchChannel(ctx, { config: { leads: chosen } });
    }
    const fresh = await api('GET', `/channels/${id}/queue`);
    fresh.options.route_to_responsible = checked('options.route_to_responsible');
    fresh.options.transfer_makes_responsible = checked('options.transfer_makes_responsible');
    await api('PUT', `/channels/${id}/queue`, fresh);
  });
  return undefined;
}
