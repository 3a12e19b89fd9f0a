// Settings · Users · one user's access (P2, P5): their API tokens with
// *Revoke*, and turning their two-factor sign-in off for someone who lost
// their phone and recovery codes. Both are audited by the server.

import { api } from '../api.js';
import { el, heading } from './form.js';

const when = (ms) => (ms ? new Date(ms).toLocaleString() : '—');

/** The access part of a user's editor; `ctx.say` reports what happened. */
export function accessSection(user, ctx) {
  const section = el('section', null, 'settings-form');
  section.setAttribute('aria-label', `Access of ${user.name}`);
  section.append(heading('API tokens', 3));
  const list = el('div');
  list.setAttribute('aria-live', 'polite');
  section.append(list);

  async function showTokens() {
    let tokens;
    try {
      tokens = await api('GET', `/users/${user.id}/tokens`);
    } catch (err) {
      list.replaceChildren(el('p', err.message, 'field-error'));
      return;
    }
    if (tokens.length === 0) {
      list.replaceChildren(el('p', `${user.name} has no API tokens.`, 'hint'));
      return;
    }
    const table = el('table');
    table.setAttribute('aria-label', `API tokens of ${user.name}`);
    const head = el('tr');
    for (const title of ['Name', 'Created', 'Last used', 'State']) {
      const th = el('th', title);
      th.scope = 'col';
      head.append(th);
    }
    head.append(el('td'));
    const body = el('tbody');
    for (const token of tokens) {
      const row = el('tr');
      row.append(
        el('td', token.name),
        el('td', when(token.created_at)),
        el('td', when(token.last_used_at)),
        el('td', token.revoked_at ? `revoked ${when(token.revoked_at)}` : 'active'),
      );
      const cell = el('td');
      if (!token.revoked_at) {
        const revoke = el('button', 'Revoke');
        revoke.type = 'button';
        revoke.setAttribute('aria-label', `Revoke the token ${token.name} of ${user.name}`);
        revoke.addEventListener('click', async () => {
          try {
            await api('DELETE', `/users/${user.id}/tokens/${token.id}`);
            ctx.say(`The token ${token.name} of ${user.name} was revoked.`, true);
          } catch (err) {
            ctx.say(err.message);
          }
          await showTokens();
        });
        cell.append(revoke);
      }
      row.append(cell);
      body.append(row);
    }
    const thead = el('thead');
    thead.append(head);
    table.append(thead, body);
    list.replaceChildren(table);
  }

  section.append(heading('Two-factor sign-in', 3));
  const off = el('button', 'Turn off two-factor sign-in');
  off.type = 'button';
  off.addEventListener('click', async () => {
    try {
      await api('DELETE', `/users/${user.id}/totp`);
      ctx.say(`${user.name} now signs in with the password alone; they can turn two-factor on again.`, true);
    } catch (err) {
      ctx.say(err.message);
    }
  });
  section.append(
    el('p', 'For someone who lost both their authenticator and their recovery codes.', 'hint'),
    off,
  );
  showTokens();
  return section;
}
