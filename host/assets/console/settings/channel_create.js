// Settings · Channels · Create a channel (admins): every installed kind
// (GET /channel-kinds: the built-in `api` and each connector plugin) with
// its config schema as a form. After creating: the webhook URL to copy, the
// `api` kind's signing secret (shown this once), the provider setup result
// in the provider's words, and Run setup again (POST /channels/{id}/setup).

import { api } from '../api.js';
import { el, field, heading, input, select, say, clearErrors } from './form.js';
import { schemaFields, showConfigError } from './schema_form.js';

/** Runs a channel's setup again; resolves to `{ok, message, at}` either way. */
export async function runSetup(id) {
  try {
    return await api('POST', `/channels/${id}/setup`);
  } catch (err) {
    return { ok: false, message: err.message || String(err), at: Date.now() };
  }
}

/** A read-only value with a Copy button. */
function copyable(text, value, name) {
  const box = input({ type: 'text', readonly: true, name });
  box.value = value;
  const copy = el('button', `Copy ${text.toLowerCase()}`);
  copy.type = 'button';
  copy.addEventListener('click', async () => {
    box.select();
    try {
      await navigator.clipboard.writeText(value);
      say(`${text} copied.`, true);
    } catch {
      say('Copying is not allowed here; the text is selected, press Ctrl+C.');
    }
  });
  const wrap = el('div', null, 'copyable');
  wrap.append(field(text, box), copy);
  return wrap;
}

/** What the admin needs after creating: where to point the provider, and how setup went. */
async function created(box, id, secret) {
  const health = await api('GET', `/channels/${id}/health`);
  const channel = await api('GET', `/channels/${id}`);
  box.replaceChildren(heading(`Channel “${channel.name}” created`, 3));
  box.append(copyable('Webhook URL', health.webhook_url, 'webhook_url'));
  if (secret) {
    box.append(copyable('Signing secret', secret, 'secret'));
    box.append(el('p', 'The secret is shown this once: sign each webhook body with it (HMAC-SHA256, header X-Frontdesk-Signature: sha256=<hex>).', 'hint'));
  }
  const result = el('p', null, 'setup-result');
  result.id = 'setup-result';
  const show = (setup) => {
    result.textContent = setup ? `Provider setup ${setup.ok ? 'succeeded' : 'failed'}: ${setup.message}` : 'The provider setup has not run (the channel is disabled).';
    result.classList.toggle('bad', Boolean(setup && !setup.ok));
  };
  show(health.setup);
  const again = el('button', 'Run setup again');
  again.type = 'button';
  again.addEventListener('click', async () => {
    again.disabled = true;
    show(await runSetup(id));
    again.disabled = false;
  });
  const open = el('a', `Open the settings of ${channel.name}`);
  open.href = `#channel/${id}`;
  const actions = el('div', null, 'actions');
  actions.append(again, open);
  box.append(result, actions);
  box.hidden = false;
}

export async function renderCreate(root, refresh) {
  const kinds = await api('GET', '/channel-kinds');
  const section = el('section');
  section.setAttribute('aria-labelledby', 'create-channel-h');
  const h2 = heading('Create a channel', 2);
  h2.id = 'create-channel-h';
  const form = el('form', null, 'settings-form');
  form.noValidate = true;
  form.setAttribute('aria-labelledby', 'create-channel-h');
  const name = input({ type: 'text', name: 'name', required: true, maxlength: 200 });
  const kind = select(kinds.map((k) => [k.kind, k.builtin ? `${k.kind} (built in)` : k.kind]), kinds.some((k) => k.kind === 'api') ? 'api' : '');
  kind.name = 'kind';
  const about = el('p', '', 'hint');
  const config = el('fieldset');
  let fields = { read: () => ({}) };
  const showKind = () => {
    const chosen = kinds.find((k) => k.kind === kind.value) || { config: {} };
    about.textContent = chosen.description || '';
    fields = schemaFields(chosen.config, {});
    const legend = el('legend', `${chosen.kind} settings`);
    config.replaceChildren(legend, ...fields.nodes);
    if (fields.nodes.length === 0) config.append(el('p', 'This kind takes no settings.', 'hint'));
  };
  kind.addEventListener('change', showKind);
  showKind();
  const create = el('button', 'Create channel');
  create.type = 'submit';
  form.append(field('Name', name, { hint: 'Shown to customers, e.g. in the chat window header.' }),
    field('Kind', kind), about, config, create);
  const done = el('div', null, 'created');
  done.id = 'created-channel';
  done.setAttribute('role', 'region');
  done.setAttribute('aria-label', 'The created channel');
  done.hidden = true;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    create.disabled = true;
    try {
      const answer = await api('POST', '/channels', { name: name.value, kind: kind.value, config: fields.read() });
      await refresh();
      await created(done, answer.channel.id, answer.channel.kind === 'api' ? answer.secret : null);
      form.reset();
      showKind();
      done.querySelector('h3').setAttribute('tabindex', '-1');
      done.querySelector('h3').focus();
    } catch (err) {
      // Saved, but the provider setup failed: show it with Run setup again.
      const saved = /^channel (\d+) is saved/.exec(err.message || '');
      if (saved) {
        await refresh();
        await created(done, Number(saved[1]), null);
      } else {
        showConfigError(form, err);
      }
    } finally {
      create.disabled = false;
    }
  });
  section.append(h2, form, done);
  root.append(section);
}
