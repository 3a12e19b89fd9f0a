// Settings · Users (admins; P1, P5, P6, R13, R15, I1): everybody with
// their role and status and the channels they serve, adding a user with a
// password or a one-time link, and one user's profile, status and password.
// Queue membership is edited on each channel's Queue tab; this page links
// there instead of repeating it.

import { api } from '../api.js';
import { clearErrors, el, field, heading, input, select, showError } from './form.js';
import { accessSection } from './user_access.js';

/** A checkbox or radio label laid out on one line. */
const inline = (label) => { label.classList.add('check'); return label; };

const ROLES = [['agent', 'Agent'], ['supervisor', 'Supervisor'], ['admin', 'Admin']];

/** The flags routing reads, in words. */
function status(user) {
  const words = [user.disabled ? 'disabled' : 'active'];
  if (user.dismissed) words.push('dismissed');
  if (user.vacation) words.push('on vacation');
  return words.join(', ');
}

/** Which channels each user serves: `{queues, supervises}` by user id. */
async function serving() {
  const channels = await api('GET', '/channels');
  const byUser = new Map();
  const entry = (id) => {
    if (!byUser.has(id)) byUser.set(id, { queues: [], supervises: [] });
    return byUser.get(id);
  };
  await Promise.all(channels.map(async (channel) => {
    const [queue, supervisors] = await Promise.all([
      api('GET', `/channels/${channel.id}/queue`),
      api('GET', `/channels/${channel.id}/supervisors`),
    ]);
    for (const id of queue.agents) entry(id).queues.push(channel);
    for (const id of supervisors.users) entry(id).supervises.push(channel);
  }));
  return byUser;
}

/** Links to the channels, each to its Queue tab (or its page). */
function channelLinks(channels, tab) {
  const cell = el('td');
  if (channels.length === 0) return cell;
  channels.sort((a, b) => a.name.localeCompare(b.name));
  channels.forEach((channel, i) => {
    if (i) cell.append(', ');
    const link = el('a', channel.name);
    link.href = tab ? `#channel/${channel.id}/${tab}` : `#channel/${channel.id}`;
    cell.append(link);
  });
  return cell;
}

/** A read-only text box with a Copy button, for a link or token shown once. */
function copyable(labelText, value, say) {
  const box = el('div', null, 'copyable');
  const text = input({ type: 'text', readonly: true, value, size: 60 });
  const copy = el('button', 'Copy');
  copy.type = 'button';
  copy.addEventListener('click', async () => {
    text.select();
    try {
      await navigator.clipboard.writeText(value);
      say('Copied.', true);
    } catch {
      say('Select the text and copy it yourself: the browser refused the clipboard.');
    }
  });
  box.append(field(labelText, text), copy);
  return box;
}

function addUserForm(ctx, reload) {
  const form = el('form', null, 'settings-form');
  form.setAttribute('aria-labelledby', 'add-user-title');
  const title = heading('Add a user', 2);
  title.id = 'add-user-title';
  const name = input({ name: 'name', required: true, autocomplete: 'off', spellcheck: 'false' });
  const role = select(ROLES, 'agent');
  role.name = 'role';
  const display = input({ name: 'display_name', autocomplete: 'off' });
  const avatar = input({ name: 'avatar_url', type: 'url', autocomplete: 'off' });
  const password = input({ name: 'password', type: 'password', autocomplete: 'new-password' });
  const how = el('fieldset');
  how.append(el('legend', 'How they get in'));
  const byPassword = input({ type: 'radio', name: 'how', value: 'password', checked: true });
  const byLink = input({ type: 'radio', name: 'how', value: 'link' });
  const passwordField = field('Password (at least 10 characters)', password, { name: 'password' });
  how.append(
    inline(field('Set a password now', byPassword, { name: 'how' })),
    passwordField,
    inline(field('Make a one-time link they open to choose their own', byLink, { name: 'how' })),
  );
  const sync = () => {
    passwordField.hidden = byLink.checked;
    password.required = byPassword.checked;
  };
  byPassword.addEventListener('change', sync);
  byLink.addEventListener('change', sync);
  sync();
  const submit = el('button', 'Add user');
  submit.type = 'submit';
  const result = el('div');
  result.setAttribute('aria-live', 'polite');
  form.append(
    title,
    field('Name (they sign in with it)', name, { name: 'name' }),
    field('Role', role, { name: 'role' }),
    field('Display name', display, { name: 'display_name', hint: 'Shown to customers instead of the name; optional.' }),
    field('Avatar URL', avatar, { name: 'avatar_url', hint: 'An http(s) address of a picture; optional.' }),
    how,
    submit,
    result,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    result.replaceChildren();
    const body = { name: name.value.trim(), role: role.value };
    if (display.value.trim()) body.display_name = display.value.trim();
    if (avatar.value.trim()) body.avatar_url = avatar.value.trim();
    if (byPassword.checked) body.password = password.value;
    submit.disabled = true;
    try {
      const created = await api('POST', '/users', body);
      const who = created.user.name;
      result.append(el('p', `${who} was added as ${created.user.role}.`));
      if (byLink.checked) {
        const link = await api('POST', `/users/${created.user.id}/setup-link`);
        result.append(copyable(`One-time link for ${who} (works once, for 7 days)`, link.url, ctx.say));
      }
      result.append(copyable(`API token for ${who} (shown this once)`, created.token, ctx.say));
      name.value = '';
      display.value = '';
      avatar.value = '';
      password.value = '';
      ctx.say(`${who} was added.`, true);
      await reload();
    } catch (err) {
      showError(form, err);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** One user's profile, status flags, password and one-time link. */
function userEditor(user, ctx, reload) {
  const section = el('section', null, 'user-editor');
  const title = heading(`Change ${user.name}`, 2);
  title.id = `user-${user.id}-title`;
  section.setAttribute('aria-labelledby', title.id);
  section.append(title);

  const profile = el('form', null, 'settings-form');
  profile.setAttribute('aria-label', `Profile of ${user.name}`);
  const display = input({ name: 'display_name', value: user.display_name || '', autocomplete: 'off' });
  const avatar = input({ name: 'avatar_url', type: 'url', value: user.avatar_url || '', autocomplete: 'off' });
  const saveProfile = el('button', 'Save profile');
  saveProfile.type = 'submit';
  profile.append(
    field('Display name', display, { name: 'display_name' }),
    field('Avatar URL', avatar, { name: 'avatar_url' }),
    saveProfile,
  );
  profile.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(profile);
    try {
      await api('PATCH', `/users/${user.id}/profile`, {
        display_name: display.value.trim() || null,
        avatar_url: avatar.value.trim() || null,
      });
      ctx.say(`The profile of ${user.name} was saved.`, true);
      await reload(user.id);
    } catch (err) {
      showError(profile, err);
    }
  });

  const flags = el('form', null, 'settings-form');
  flags.setAttribute('aria-label', `Status of ${user.name}`);
  const boxes = {};
  const fieldset = el('fieldset');
  fieldset.append(el('legend', 'Status'));
  for (const [key, text] of [
    ['disabled', 'Disabled: cannot sign in; their token is refused'],
    ['dismissed', 'Dismissed: gets no sessions; theirs go back to the queue'],
    ['vacation', 'On vacation: gets no sessions'],
  ]) {
    boxes[key] = input({ type: 'checkbox', name: key, checked: user[key] });
    fieldset.append(inline(field(text, boxes[key], { name: key })));
  }
  const saveFlags = el('button', 'Save status');
  saveFlags.type = 'submit';
  flags.append(fieldset, saveFlags);
  flags.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(flags);
    const patch = {};
    for (const [key, box] of Object.entries(boxes)) patch[key] = box.checked;
    try {
      const saved = await api('PATCH', `/users/${user.id}`, patch);
      ctx.say(`${saved.name} is now ${status(saved)}.`, true);
      await reload(user.id);
    } catch (err) {
      showError(flags, err);
    }
  });

  const secret = el('form', null, 'settings-form');
  secret.setAttribute('aria-label', `Password of ${user.name}`);
  const password = input({ name: 'password', type: 'password', autocomplete: 'new-password', required: true });
  const setPassword = el('button', 'Set password');
  setPassword.type = 'submit';
  const linkButton = el('button', 'Make a one-time link');
  linkButton.type = 'button';
  const linkBox = el('div');
  linkBox.setAttribute('aria-live', 'polite');
  secret.append(
    field('New password (their browser sessions end)', password, { name: 'password' }),
    setPassword,
    linkButton,
    linkBox,
  );
  secret.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(secret);
    try {
      await api('PUT', `/users/${user.id}/password`, { password: password.value });
      password.value = '';
      ctx.say(`The password of ${user.name} was set.`, true);
    } catch (err) {
      showError(secret, err);
    }
  });
  linkButton.addEventListener('click', async () => {
    clearErrors(secret);
    try {
      const link = await api('POST', `/users/${user.id}/setup-link`);
      linkBox.replaceChildren(copyable(`One-time link for ${user.name}`, link.url, ctx.say));
    } catch (err) {
      showError(secret, err);
    }
  });

  section.append(profile, flags, secret, accessSection(user, ctx));
  return section;
}

export async function render(root, ctx) {
  root.append(heading('Users'));
  if (!ctx.editable) {
    root.append(el('p', 'Only admins manage users.'));
    return;
  }
  const list = el('div');
  const editor = el('div');
  let users = [];

  async function reload(editing) {
    const [fresh, byUser] = await Promise.all([api('GET', '/users'), serving()]);
    users = fresh;
    const table = el('table');
    const caption = el('caption', 'Everybody who signs in to the console');
    const head = el('tr');
    for (const text of ['Name', 'Display name', 'Role', 'Status', 'In the queue of', 'Supervises', '']) {
      const th = el('th', text);
      th.scope = 'col';
      head.append(th);
    }
    const thead = el('thead');
    thead.append(head);
    const body = el('tbody');
    for (const user of users) {
      const row = el('tr');
      row.dataset.user = user.name;
      const serves = byUser.get(user.id) || { queues: [], supervises: [] };
      const change = el('button', 'Change');
      change.type = 'button';
      change.setAttribute('aria-label', `Change ${user.name}`);
      change.addEventListener('click', () => showEditor(user.id));
      const action = el('td');
      action.append(change);
      row.append(
        el('th', user.name),
        el('td', user.display_name || ''),
        el('td', user.role),
        el('td', status(user), 'user-status'),
        channelLinks(serves.queues, 'queue'),
        channelLinks(serves.supervises, null),
        action,
      );
      row.firstChild.scope = 'row';
      body.append(row);
    }
    table.append(caption, thead, body);
    list.replaceChildren(table);
    if (editing) showEditor(editing, false);
  }

  function showEditor(id, focus = true) {
    const user = users.find((u) => u.id === id);
    if (!user) return;
    const section = userEditor(user, ctx, reload);
    editor.replaceChildren(section);
    if (focus) section.querySelector('input').focus();
  }

  root.append(list, editor, addUserForm(ctx, reload));
  await reload();
}
