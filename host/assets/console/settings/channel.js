// Settings · one channel, in the order of the product it follows: each tab
// is a module of its own under settings/channel/ exporting
// `render(root, ctx)`, where ctx also holds `channel` (GET /channels/{id}).
// `#channel/7` opens the first tab, `#channel/7/hours` a named one.

import { api } from '../api.js';
import { el, heading } from './form.js';

const TABS = [
  ['queue', 'Queue', () => import('./channel/queue.js')],
  ['crm', 'CRM', () => import('./channel/crm.js')],
  ['identity', 'Agent information', () => import('./channel/identity.js')],
  ['hours', 'Working hours', () => import('./channel/hours.js')],
  ['agreement', 'Agreement', () => import('./channel/agreement.js')],
  ['scripts', 'Auto-actions', () => import('./channel/scripts.js')],
  ['canned', 'Canned responses', () => import('./channel/canned.js')],
  ['quality', 'Quality assessment', () => import('./channel/quality.js')],
  ['bot', 'Chat bot', () => import('./channel/bot.js')],
  ['other', 'Other', () => import('./channel/other.js')],
];

export async function render(root, ctx) {
  const [id, tabName = TABS[0][0]] = ctx.params;
  const channel = await api('GET', `/channels/${encodeURIComponent(id)}`);
  root.append(heading(channel.name));
  const tabs = el('nav', null, 'tabs');
  tabs.setAttribute('aria-label', `${channel.name} settings`);
  for (const [name, title] of TABS) {
    const link = el('a', title);
    link.href = `#channel/${channel.id}/${name}`;
    if (name === tabName) link.setAttribute('aria-current', 'page');
    tabs.append(link);
  }
  root.append(tabs);
  if (!ctx.editable) {
    root.append(el('p', 'You supervise this channel: you can see its settings; only an admin can change them.', 'readonly-note'));
  }
  const tab = TABS.find(([name]) => name === tabName);
  if (!tab) {
    root.append(el('p', `This channel has no "${tabName}" settings.`));
    return undefined;
  }
  const panel = el('section', null, 'tab-panel');
  panel.append(heading(tab[1], 2));
  root.append(panel);
  const module = await tab[2]();
  return module.render(panel, { ...ctx, channel });
}
