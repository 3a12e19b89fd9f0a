// Settings · Channels: every channel the user may see, with its kind and
// whether it is enabled; each name opens that channel's settings.

import { api } from '../api.js';
import { el, heading } from './form.js';

export async function render(root) {
  root.append(heading('Channels'));
  const channels = await api('GET', '/channels');
  if (channels.length === 0) {
    root.append(el('p', 'No channels yet.'));
    return;
  }
  const table = el('table');
  const head = el('tr');
  for (const title of ['Name', 'Kind', 'Status']) {
    const th = el('th', title);
    th.scope = 'col';
    head.append(th);
  }
  const body = el('tbody');
  for (const channel of channels) {
    const row = el('tr');
    const name = el('td');
    const link = el('a', channel.name);
    link.href = `#channel/${channel.id}`;
    name.append(link);
    row.append(name, el('td', channel.kind), el('td', channel.enabled ? 'enabled' : 'disabled'));
    body.append(row);
  }
  const thead = el('thead');
  thead.append(head);
  table.append(thead, body);
  root.append(table);
}
