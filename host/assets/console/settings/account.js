// Settings · My account (P2, P5), for every role: the password, API tokens
// for integrations (each shown once, when created), and two-factor sign-in
// with an authenticator app (RFC 6238) and its one-time recovery codes.
//
// Secrets the server hands over once (a new token, the TOTP secret, the
// recovery codes) are shown as text in this page only and never stored.

import { api } from '../api.js';
import { el, field, heading, input, say, showError, clearErrors } from './form.js';

export async function render(root, ctx) {
  root.append(heading('My account'));
  root.append(el('p', `Signed in as ${ctx.me.name} (${ctx.me.role}).`));
  const password = el('section');
  const tokens = el('section');
  const twoFactor = el('section');
  root.append(password, tokens, twoFactor);
  renderPassword(password);
  await Promise.all([renderTokens(tokens), renderTwoFactor(twoFactor)]);
}

function button(text, type = 'button') {
  const node = el('button', text);
  node.type = type;
  return node;
}

function section(root, title, id) {
  const h2 = heading(title, 2);
  h2.id = id;
  root.setAttribute('aria-labelledby', id);
  root.replaceChildren(h2);
}

/** A read-only field holding a secret, with a Copy button beside it. */
function secretBox(label, value, id) {
  const box = el('div', null, 'secret-box');
  const shown = input({ readonly: true, value, id, spellcheck: 'false', autocomplete: 'off' });
  const copy = button('Copy');
  copy.setAttribute('aria-label', `Copy ${label.toLowerCase()}`);
  copy.addEventListener('click', () => copyText(value, shown));
  box.append(field(label, shown), copy);
  return box;
}

async function copyText(text, fallbackInput) {
  try {
    await navigator.clipboard.writeText(text);
    say('Copied.', true);
  } catch {
    // No clipboard permission (plain http, say): select it for Ctrl+C.
    if (!fallbackInput.select) {
      say('This browser does not let the page copy; select the text and copy it.');
      return;
    }
    fallbackInput.focus();
    fallbackInput.select();
    say('Press Ctrl+C (or Cmd+C) to copy the selected text.', true);
  }
}

function when(ms) {
  return ms ? new Date(ms).toLocaleString() : 'never';
}

// --- Password ---------------------------------------------------------------

function renderPassword(root) {
  section(root, 'Password', 'account-password');
  const form = el('form', null, 'settings-form');
  const current = input({ type: 'password', name: 'current_password', autocomplete: 'current-password', required: true });
  const next = input({ type: 'password', name: 'new_password', autocomplete: 'new-password', minlength: 10, required: true });
  const again = input({ type: 'password', autocomplete: 'new-password', minlength: 10, required: true });
  again.dataset.field = 'repeat';
  form.append(
    field('Current password', current),
    field('New password', next, { hint: 'At least 10 characters; a few words make a good one.' }),
    field('The new password again', again, { name: 'repeat' }),
  );
  const actions = el('div', null, 'actions');
  actions.append(button('Change password', 'submit'));
  form.append(actions);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (next.value !== again.value) {
      showError(form, new Error('repeat: the two new passwords differ; type the same one twice'));
      return;
    }
    try {
      await api('PUT', '/me/password', { current_password: current.value, new_password: next.value });
    } catch (err) {
      showError(form, err);
      return;
    }
    form.reset();
    say('Password changed. Your other browsers are signed out.', true);
  });
  root.append(form);
}

// --- API tokens -------------------------------------------------------------

async function renderTokens(root) {
  section(root, 'API tokens', 'account-tokens');
  root.append(el('p', 'For integrations: a program sends a token as "Authorization: Bearer <token>" and acts as you. Revoke one as soon as it is no longer needed.', 'hint'));
  const created = el('div');
  created.setAttribute('aria-live', 'polite');
  const form = el('form', null, 'settings-form');
  const name = input({ name: 'name', maxlength: 100, required: true, autocomplete: 'off' });
  form.append(field('Name of the new token', name, { hint: 'What will use it, such as "CRM sync".' }));
  const actions = el('div', null, 'actions');
  actions.append(button('Create token', 'submit'));
  form.append(actions);
  const list = el('div');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    let answer;
    try {
      answer = await api('POST', '/me/tokens', { name: name.value });
    } catch (err) {
      showError(form, err);
      return;
    }
    form.reset();
    const box = el('div', null, 'shown-once');
    box.append(el('p', `Token "${answer.api_token.name}" created. Copy it now: it is shown only this once.`));
    box.append(secretBox('New API token', answer.token, 'new-token'));
    const done = button('Done, I copied it');
    done.addEventListener('click', () => created.replaceChildren());
    box.append(done);
    created.replaceChildren(box);
    await fillTokens(list, created);
  });
  root.append(form, created, list);
  await fillTokens(list, created);
}

async function fillTokens(list, created) {
  const tokens = (await api('GET', '/me/tokens')).filter((t) => !t.revoked_at);
  if (tokens.length === 0) {
    list.replaceChildren(el('p', 'You have no API tokens.'));
    return;
  }
  const table = el('table');
  const caption = el('caption', 'Your API tokens');
  caption.className = 'sr-only';
  const head = el('tr');
  for (const title of ['Name', 'Created', 'Last used', 'Action']) {
    const th = el('th', title);
    th.scope = 'col';
    head.append(th);
  }
  const thead = el('thead');
  thead.append(head);
  const body = el('tbody');
  for (const token of tokens) {
    const row = el('tr');
    const revoke = button('Revoke');
    revoke.setAttribute('aria-label', `Revoke token ${token.name}`);
    revoke.addEventListener('click', async () => {
      if (!window.confirm(`Revoke the token "${token.name}"? Whatever uses it stops working at once.`)) return;
      try {
        await api('DELETE', `/me/tokens/${token.id}`);
      } catch (err) {
        say(err.message);
        return;
      }
      created.replaceChildren();
      say(`Token "${token.name}" revoked.`, true);
      await fillTokens(list, created);
    });
    const action = el('td');
    action.append(revoke);
    row.append(el('td', token.name), el('td', when(token.created_at)), el('td', when(token.last_used_at)), action);
    body.append(row);
  }
  table.append(caption, thead, body);
  list.replaceChildren(table);
}

// --- Two-factor sign-in -----------------------------------------------------

async function renderTwoFactor(root) {
  section(root, 'Two-factor sign-in', 'account-totp');
  const status = await api('GET', '/me/totp');
  if (status.enabled) return showEnabled(root, status);
  root.append(el('p', 'Off. With it on, signing in also asks for a code from an authenticator app on your phone, so a stolen password alone is not enough.'));
  const start = button('Turn on two-factor sign-in');
  start.addEventListener('click', async () => {
    let enrolment;
    try {
      enrolment = await api('POST', '/me/totp');
    } catch (err) {
      say(err.message);
      return;
    }
    showEnrolment(root, enrolment);
  });
  root.append(start);
}

function showEnrolment(root, enrolment) {
  section(root, 'Two-factor sign-in', 'account-totp');
  root.append(el('p', 'In your authenticator app, add an account by entering this key by hand (time-based, 6 digits, every 30 seconds).'));
  root.append(secretBox('Key for your authenticator app', enrolment.secret, 'totp-secret'));
  const details = el('details');
  details.append(el('summary', 'The same as an otpauth:// address'));
  const uri = el('code', enrolment.uri, 'wrap');
  uri.id = 'totp-uri';
  details.append(uri);
  root.append(details);
  const form = el('form', null, 'settings-form');
  const code = input({ name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9 ]{6,7}', required: true });
  form.append(field('Code from your authenticator app', code, { hint: 'The 6 digits the app shows now: this proves it is set up right.' }));
  const actions = el('div', null, 'actions');
  const cancel = button('Cancel');
  cancel.addEventListener('click', () => renderTwoFactor(root));
  actions.append(button('Confirm and turn on', 'submit'), cancel);
  form.append(actions);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let answer;
    try {
      answer = await api('POST', '/me/totp/confirm', { code: code.value.trim() });
    } catch (err) {
      showError(form, err);
      return;
    }
    showRecoveryCodes(root, answer.recovery_codes);
  });
  root.append(form);
  code.focus();
}

function showRecoveryCodes(root, codes) {
  section(root, 'Two-factor sign-in', 'account-totp');
  root.append(el('p', 'On. Sign-in now asks for a code from your app.'));
  const box = el('div', null, 'shown-once');
  box.append(el('p', 'Your recovery codes: keep them somewhere safe. Each works once in place of a code, if you lose your phone. They are shown only now.'));
  const list = el('ol', null, 'recovery-codes');
  list.id = 'recovery-codes';
  for (const code of codes) list.append(el('li', code));
  const all = codes.join('\n');
  const copy = button('Copy the recovery codes');
  copy.addEventListener('click', () => copyText(all, copy));
  const done = button('Done, I saved them');
  done.addEventListener('click', () => renderTwoFactor(root));
  const actions = el('div', null, 'actions');
  actions.append(copy, done);
  box.append(list, actions);
  root.append(box);
  say('Two-factor sign-in is on.', true);
}

function showEnabled(root, status) {
  root.append(el('p', `On. ${status.recovery_codes_left} of your recovery codes are left.`));
  const form = el('form', null, 'settings-form');
  form.append(el('p', 'To turn it off, give a code from your app or your password.', 'hint'));
  const code = input({ name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code' });
  const password = input({ type: 'password', name: 'password', autocomplete: 'current-password' });
  form.append(field('Code from your authenticator app', code), field('Or your password', password));
  const actions = el('div', null, 'actions');
  actions.append(button('Turn off two-factor sign-in', 'submit'));
  form.append(actions);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const proof = code.value.trim() ? { code: code.value.trim() } : { password: password.value };
    try {
      await api('DELETE', '/me/totp', proof);
    } catch (err) {
      showError(form, err);
      return;
    }
    say('Two-factor sign-in is off.', true);
    await renderTwoFactor(root);
  });
  root.append(form);
}
