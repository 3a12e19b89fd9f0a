// Settings · Channels: every channel the user may see, with its kind,
// whether it is enabled and its health (GET /channels/{id}/health: the last
// customer message, failed replies and webhooks, the last provider setup);
// each name opens that channel's settings. Admins also create channels here
// (channel_create.js) and run a channel's provider setup again.

import { api } from '../api.js';
import { el, heading } from './form.js';
import { renderCreate, runSetup } from './channel_create.js';

/** A time from the server (unix ms) in the browser's words. */
export function when(ms) {
  return ms ? new Date(ms).toLocaleString() : 'never';
}

function setupCell(channel, health, ctx) {
  const cell = el('td');
  const setup = health && health.setup;
  const line = el('p', setup ? `${setup.ok ? 'OK' : 'Failed'} (${when(setup.at)}): ${setup.message}` : 'not run yet', 'setup-result');
  if (setup && !setup.ok) line.classList.add('bad');
  cell.append(line);
  if (ctx.editable && channel.enabled) {
    const again = el('button', 'Run setup again');
    again.type = 'button';
    again.setAttribute('aria-label', `Run setup again for ${channel.name}`);
    again.addEventListener('click', async () => {
      again.disabled = true;
      const result = await runSetup(channel.id);
      line.textContent = `${result.ok ? 'OK' : 'Failed'} (${when(result.at)}): ${result.message}`;
      line.classList.toggle('bad', !result.ok);
      again.disabled = false;
    });
    cell.append(again);
  }
  return cell;
}

async function table(ctx) {
  const channels = await api('GET', '/channels');
  if (channels.length === 0) return el('p', 'No channels yet.');
  const healths = await Promise.all(channels.map((c) => api('GET', `/channels/${c.id}/health`).catch(() => null)));
  const table = el('table', null, 'channel-list');
  const caption = el('caption', 'Channels and their health');
  caption.className = 'visually-hidden';
  const head = el('tr');
  for (const title of ['Name', 'Kind', 'Status', 'Last customer message', 'Failed replies', 'Failed webhooks', 'Provider setup']) {
    const th = el('th', title);
    th.scope = 'col';
    head.append(th);
  }
  const body = el('tbody');
  channels.forEach((channel, i) => {
    const health = healths[i];
    const row = el('tr');
    row.dataset.channel = channel.id;
    const name = el('th');
    name.scope = 'row';
    const link = el('a', channel.name);
    link.href = `#channel/${channel.id}`;
    name.append(link);
    row.append(
      name,
      el('td', channel.kind),
      el('td', channel.enabled ? 'enabled' : 'disabled'),
      el('td', health ? when(health.last_inbound_at) : '—'),
      el('td', health ? health.failed_outbox : '—', health && health.failed_outbox ? 'bad' : null),
      el('td', health ? health.failed_inbound : '—', health && health.failed_inbound ? 'bad' : null),
      setupCell(channel, health, ctx),
    );
    body.append(row);
  });
  const thead = el('thead');
  thead.append(head);
  table.append(caption, thead, body);
  return table;
}

export async function render(root, ctx) {
  root.append(heading('Channels'));
  const list = el('div');
  list.id = 'channel-list';
  root.append(list);
  const refresh = async () => list.replaceChildren(await table(ctx));
  await refresh();
  if (ctx.editable) await renderCreate(root, refresh);
}
