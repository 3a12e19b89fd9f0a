// Channel · Agent information (I1): what customers see of the agent who
// writes: each agent's own profile (display name and avatar), one identity
// for the whole channel (a name and an avatar), or nothing. Saved as the
// channel config's `agent_identity`.

import { el, field, input } from '../form.js';
import { tabForm, radios, radioValue, patchChannel } from './tab_form.js';

const MODES = [
  ['profile', 'Each agent\'s profile', 'their display name and avatar (My account)'],
  ['channel', 'The channel\'s identity', 'one name and avatar for every agent'],
  ['hidden', 'Hidden', 'customers see no agent name'],
];

export async function render(panel, ctx) {
  const current = (ctx.channel.config && ctx.channel.config.agent_identity) || { mode: 'profile' };
  const name = input({ type: 'text', name: 'config.agent_identity.name', maxlength: 100 });
  name.value = current.name || '';
  const avatar = input({ type: 'url', name: 'config.agent_identity.avatar_url' });
  avatar.value = current.avatar_url || '';
  const channelOnly = el('div', null, 'indent');
  const form = tabForm(panel, ctx, (box) => {
    const group = radios('Customers see', 'config.agent_identity', MODES, current.mode);
    // The message `config.agent_identity: ...` lands at the group's first radio.
    channelOnly.append(field('Name customers see', name), field('Avatar URL', avatar, { hint: 'https address of a square picture; empty for none.' }));
    box.append(group, channelOnly);
    const sync = () => { channelOnly.hidden = radioValue(box, 'config.agent_identity') !== 'channel'; };
    group.addEventListener('change', sync);
    sync();
  }, async () => {
    const mode = radioValue(form, 'config.agent_identity');
    const identity = { mode };
    if (mode === 'channel') {
      identity.name = name.value;
      if (avatar.value.trim()) identity.avatar_url = avatar.value.trim();
    }
    await patchChannel(ctx, { config: { agent_identity: identity } });
  });
  return undefined;
}
