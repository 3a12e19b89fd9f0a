// Settings · Operations (admins; P4, S5, O5): the audit log filtered by
// who, what and when; outbound messages that failed, each with *Send
// again*; inbound webhook requests no connector could read, with the
// reason; and the way to the statistics.

import { api } from '../api.js';
import { clearErrors, el, field, heading, input, select, showError } from './form.js';

const when = (ms) => new Date(ms).toLocaleString();

function table(caption, titles) {
  const node = el('table');
  node.append(el('caption', caption));
  const head = el('tr');
  for (const text of titles) {
    const th = el('th', text);
    th.scope = 'col';
    head.append(th);
  }
  const thead = el('thead');
  thead.append(head);
  const body = el('tbody');
  node.append(thead, body);
  return [node, body];
}

/** A `datetime-local` value as Unix milliseconds, or undefined when empty. */
function millis(value) {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

function auditSection(users) {
  const section = el('section');
  const title = heading('Audit log', 2);
  title.id = 'audit-title';
  section.setAttribute('aria-labelledby', title.id);
  const names = new Map(users.map((u) => [u.id, u.name]));
  const form = el('form', null, 'settings-form filters');
  form.setAttribute('aria-label', 'Filter the audit log');
  const actor = select([['', 'Anyone'], ...users.map((u) => [u.id, u.name])], '');
  actor.name = 'actor';
  const action = input({ name: 'action', list: 'audit-actions', autocomplete: 'off', spellcheck: 'false' });
  const actions = el('datalist');
  actions.id = 'audit-actions';
  for (const known of ['user.', 'user.create', 'user.status', 'user.profile', 'user.password', 'user.setup_link',
    'channel.', 'queue.update', 'plugin.', 'outbox.retry', 'rules.save', 'canned.update', 'contact.merge']) {
    const option = el('option');
    option.value = known;
    actions.append(option);
  }
  const since = input({ name: 'since', type: 'datetime-local' });
  const until = input({ name: 'until', type: 'datetime-local' });
  const submit = el('button', 'Filter');
  submit.type = 'submit';
  form.append(
    field('Who', actor, { name: 'actor' }),
    field('Action', action, { name: 'action', hint: 'Exact, like user.status, or ending in a dot, like user. for every change to users.' }),
    actions,
    field('From', since, { name: 'since' }),
    field('Until', until, { name: 'until' }),
    submit,
  );
  const results = el('div');
  results.setAttribute('aria-live', 'polite');

  async function load() {
    clearErrors(form);
    const q = new URLSearchParams({ limit: '200' });
    if (actor.value) q.set('actor', actor.value);
    if (action.value.trim()) q.set('action', action.value.trim());
    const from = millis(since.value);
    const to = millis(until.value);
    if (from !== undefined) q.set('since', String(from));
    if (to !== undefined) q.set('until', String(to));
    let entries;
    try {
      entries = await api('GET', `/audit?${q}`);
    } catch (err) {
      showError(form, err);
      return;
    }
    if (entries.length === 0) {
      results.replaceChildren(el('p', 'No changes match.'));
      return;
    }
    const [node, body] = table(`${entries.length} change(s), newest first`, ['When', 'Who', 'Action', 'Target', 'Detail']);
    node.classList.add('audit');
    for (const entry of entries) {
      const row = el('tr');
      row.append(
        el('td', when(entry.at)),
        el('td', entry.actor_id == null ? 'the server' : names.get(entry.actor_id) || `user ${entry.actor_id}`),
        el('td', entry.action, 'audit-action'),
        el('td', entry.target),
        el('td', JSON.stringify(entry.detail), 'detail'),
      );
      body.append(row);
    }
    results.replaceChildren(node);
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  section.append(title, form, results);
  return { section, load };
}

/** Polls an outbox item until it is no longer pending (about a minute at most). */
async function settled(id) {
  for (let i = 0; i < 60; i += 1) {
    await new Promise((done) => { setTimeout(done, 1000); });
    const items = await api('GET', '/outbox?limit=1000');
    const item = items.find((it) => it.id === id);
    if (item && item.state !== 'pending') return item;
  }
  return null;
}

function outboxSection(channels, ctx) {
  const section = el('section');
  const title = heading('Failed outbound messages', 2);
  title.id = 'outbox-title';
  section.setAttribute('aria-labelledby', title.id);
  const results = el('div');
  const names = new Map(channels.map((c) => [c.id, c.name]));

  async function load() {
    const items = await api('GET', '/outbox?state=failed&limit=200');
    if (items.length === 0) {
      results.replaceChildren(el('p', 'None: every outbound message was delivered or is on its way.'));
      return;
    }
    const [node, body] = table('Messages that gave up after their last try', ['Item', 'Channel', 'Tries', 'Failed because', '']);
    for (const item of items) {
      const row = el('tr');
      row.dataset.outbox = String(item.id);
      const reason = el('td', item.last_error || '', 'reason');
      const cell = el('td');
      const again = el('button', 'Send again');
      again.type = 'button';
      again.setAttribute('aria-label', `Send again: item ${item.id}`);
      const outcome = el('span', '', 'outcome');
      outcome.setAttribute('role', 'status');
      again.addEventListener('click', async () => {
        again.disabled = true;
        outcome.textContent = 'Sending again…';
        try {
          await api('POST', `/outbox/${item.id}/retry`);
          const done = await settled(item.id);
          if (!done) outcome.textContent = 'Still trying; look again later.';
          else if (done.state === 'sent') outcome.textContent = 'Sent.';
          else {
            outcome.textContent = 'Failed again.';
            reason.textContent = done.last_error || '';
          }
        } catch (err) {
          outcome.textContent = '';
          ctx.say(err.message);
        }
        again.disabled = false;
      });
      cell.append(again, ' ', outcome);
      const channel = el('td');
      const link = el('a', names.get(item.channel_id) || `channel ${item.channel_id}`);
      link.href = `#channel/${item.channel_id}`;
      channel.append(link);
      row.append(el('td', `#${item.id} (message ${item.message_id}), ${when(item.created_at)}`), channel,
        el('td', String(item.attempts)), reason, cell);
      body.append(row);
    }
    results.replaceChildren(node);
  }
  section.append(title, el('p', 'Fix the cause first (for example the channel’s callback URL), then send again.', 'hint'), results);
  return { section, load };
}

function inboundSection(channels) {
  const section = el('section');
  const title = heading('Failed inbound requests', 2);
  title.id = 'inbound-title';
  section.setAttribute('aria-labelledby', title.id);
  const results = el('div');
  const names = new Map(channels.map((c) => [c.id, c.name]));

  async function load() {
    const rows = await api('GET', '/inbound/failed?limit=100');
    if (rows.length === 0) {
      results.replaceChildren(el('p', 'None: every authentic webhook request was read.'));
      return;
    }
    const [node, body] = table('Authentic webhook requests their connector could not read', ['When', 'Channel', 'Reason', 'Body']);
    for (const row of rows) {
      const tr = el('tr');
      const text = row.body != null ? row.body : `(binary, base64) ${row.body_base64}`;
      tr.append(el('td', when(row.received_at)), el('td', names.get(row.channel_id) || `channel ${row.channel_id}`),
        el('td', row.reason), el('td', text.length > 200 ? `${text.slice(0, 200)}…` : text, 'detail'));
      body.append(tr);
    }
    results.replaceChildren(node);
  }
  section.append(title, el('p', 'The provider was answered 200 for each, so nothing retries them.', 'hint'), results);
  return { section, load };
}

export async function render(root, ctx) {
  root.append(heading('Operations'));
  if (!ctx.editable) {
    root.append(el('p', 'Only admins see operations.'));
    return;
  }
  const stats = el('p');
  const link = el('a', 'Open the statistics');
  link.href = 'stats.html';
  stats.append(link, ': sessions, waiting and answer times, ratings by channel and agent.');
  root.append(stats);
  const [users, channels] = await Promise.all([api('GET', '/users'), api('GET', '/channels')]);
  const audit = auditSection(users);
  const outbox = outboxSection(channels, ctx);
  const inbound = inboundSection(channels);
  root.append(outbox.section, inbound.section, audit.section);
  await Promise.all([audit.load(), outbox.load(), inbound.load()]);
}
