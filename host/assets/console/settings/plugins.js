// Settings · Plugins (admins; B2, O4, X2): installed connector and bot
// plugins with their versions, the permissions each asks for and any
// quarantine; uploading a `.tar.gz` package to install or upgrade, rolling
// back and making a version active. Every change switches channels at their
// next call, with no restart.

import { api, upload } from '../api.js';
import { catalogueSection } from './catalogue.js';
import { clearErrors, el, field, heading, input, showError } from './form.js';

/** A checkbox label laid out on one line. */
const inline = (label) => { label.classList.add('check'); return label; };

function uploadForm(ctx, reload) {
  const form = el('form', null, 'settings-form');
  form.setAttribute('aria-labelledby', 'upload-title');
  const title = heading('Upload a package', 2);
  title.id = 'upload-title';
  const file = input({ type: 'file', name: 'package', accept: '.tar.gz,.tgz,application/gzip', required: true });
  const upgrade = input({ type: 'checkbox', name: 'upgrade' });
  const unsigned = input({ type: 'checkbox', name: 'allow_unsigned' });
  const submit = el('button', 'Upload');
  submit.type = 'submit';
  form.append(
    title,
    field('Plugin package (.tar.gz)', file, {
      name: 'package',
      hint: 'Made with `frontdesk plugin pack`; read the permissions it asks for below once it is installed.',
    }),
    inline(field('Upgrade: make it the active version for every channel of this plugin', upgrade, { name: 'upgrade' })),
    inline(field('Allow an unsigned package (no publisher signature; it is marked unsigned)', unsigned, { name: 'allow_unsigned' })),
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const chosen = file.files[0];
    if (!chosen) return;
    submit.disabled = true;
    try {
      const query = new URLSearchParams();
      if (upgrade.checked) query.set('upgrade', 'true');
      if (unsigned.checked) query.set('allow_unsigned', 'true');
      const done = await upload(`/plugins/upload${query.size ? `?${query}` : ''}`, chosen, 'application/gzip');
      form.reset();
      ctx.say(`${done.name} ${done.version} was ${upgrade.checked ? 'upgraded to' : 'installed'}.`, true);
      reload(done.plugins);
    } catch (err) {
      showError(form, err);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** One plugin: what it is, what it may do, its versions. */
function pluginSection(plugin, ctx, reload) {
  const section = el('section', null, 'plugin');
  const title = heading(plugin.name, 2);
  title.id = `plugin-${plugin.name}`;
  section.setAttribute('aria-labelledby', title.id);
  section.dataset.plugin = plugin.name;
  section.append(title);
  const facts = el('dl');
  const fact = (term, value) => facts.append(el('dt', term), el('dd', value));
  fact('Kind', plugin.kind);
  fact('Active version', plugin.active);
  fact('Source', plugin.source === 'built-in'
    ? 'Built in: ships with the server'
    : (plugin.builtin_version ? `Installed; overrides the built-in ${plugin.builtin_version}` : 'Installed'));
  if (plugin.source !== 'built-in') {
    fact('Signature', plugin.unsigned ? 'unsigned' : `signed by ${plugin.signed_by}`);
  }
  if (plugin.description) fact('Description', plugin.description);
  section.append(facts);
  if (plugin.load_error) section.append(el('p', `It could not be loaded: ${plugin.load_error}`, 'field-error'));

  section.append(heading('Permissions it asks for', 3));
  if (plugin.permissions.length === 0) {
    section.append(el('p', 'None: no network, mail or stored data.'));
  } else {
    const list = el('ul', null, 'permissions');
    for (const line of plugin.permissions) list.append(el('li', line));
    section.append(list);
  }

  const act = async (button, method, path, body, done) => {
    button.disabled = true;
    try {
      const plugins = await api(method, path, body);
      ctx.say(done, true);
      reload(plugins);
    } catch (err) {
      ctx.say(err.message);
      button.disabled = false;
    }
  };

  const waiting = plugin.versions.find((v) => v.version === plugin.awaiting_approval);
  if (waiting) {
    const box = el('div', null, 'awaiting');
    box.append(el('p', `Version ${waiting.version} is awaiting approval: it asks for more than the active version, which keeps serving until you approve. It asks for:`));
    const asks = el('ul', null, 'permissions');
    for (const line of waiting.permissions) asks.append(el('li', line));
    const approve = el('button', 'Approve and make active');
    approve.type = 'button';
    approve.setAttribute('aria-label', `Approve the permissions of ${plugin.name} ${waiting.version} and make it active`);
    approve.addEventListener('click', () => act(approve, 'POST', `/plugins/${encodeURIComponent(plugin.name)}/approve`,
      { version: waiting.version }, `${plugin.name} ${waiting.version} is approved and active.`));
    box.append(asks, approve);
    section.append(box);
  }

  const table = el('table');
  table.append(el('caption', `Installed versions of ${plugin.name}`));
  const head = el('tr');
  for (const text of ['Version', 'Plugin API', 'sha256', 'Signature', 'State', '']) {
    const th = el('th', text);
    th.scope = 'col';
    head.append(th);
  }
  const thead = el('thead');
  thead.append(head);
  const body = el('tbody');
  for (const version of plugin.versions) {
    const row = el('tr');
    const name = el('th', version.version);
    name.scope = 'row';
    const sha = el('td', version.sha256.slice(0, 12));
    sha.title = version.sha256;
    const state = [];
    if (version.active) state.push('active');
    if (version.quarantine) state.push(`quarantined: ${version.quarantine}`);
    if (version.version === plugin.awaiting_approval) state.push('awaiting approval');
    const action = el('td');
    if (!version.active) {
      const activate = el('button', 'Make active');
      activate.type = 'button';
      activate.setAttribute('aria-label', `Make active: ${plugin.name} ${version.version}`);
      activate.addEventListener('click', () => act(activate, 'POST', `/plugins/${encodeURIComponent(plugin.name)}/activate`,
        { version: version.version }, `${plugin.name} ${version.version} is active.`));
      action.append(activate);
    }
    const signature = el('td', plugin.source === 'built-in' ? 'built in'
      : (version.signed_by ? `signed by ${version.signed_by}` : 'unsigned'));
    if (version.approved_by) signature.title = `permissions approved by ${version.approved_by}`;
    row.append(name, el('td', version.api), sha, signature, el('td', state.join(', ') || 'installed'), action);
    body.append(row);
  }
  table.append(thead, body);
  section.append(table);

  if (plugin.versions.length > 1) {
    const back = el('button', 'Roll back');
    back.type = 'button';
    back.setAttribute('aria-label', `Roll back ${plugin.name} to the version active before`);
    back.addEventListener('click', () => act(back, 'POST', `/plugins/${encodeURIComponent(plugin.name)}/rollback`,
      undefined, `${plugin.name} went back to the version active before.`));
    section.append(back);
  }
  return section;
}

export async function render(root, ctx) {
  root.append(heading('Plugins'));
  if (!ctx.editable) {
    root.append(el('p', 'Only admins manage plugins.'));
    return;
  }
  const list = el('div');
  list.setAttribute('aria-live', 'polite');
  const reload = (plugins) => {
    if (plugins.length === 0) {
      list.replaceChildren(el('p', 'No plugins are installed yet.'));
      return;
    }
    list.replaceChildren(...plugins.map((p) => pluginSection(p, ctx, reload)));
  };
  root.append(uploadForm(ctx, reload), list, catalogueSection(ctx, reload));
  try {
    reload(await api('GET', '/plugins'));
  } catch (err) {
    list.replaceChildren(el('p', err.message));
  }
}
