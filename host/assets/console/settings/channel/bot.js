// Channel tab · Chat bot (B1): which installed bot gets the channel's new
// sessions first, how long it may leave a customer unanswered before the
// session goes to the queue, and the bot's own settings, as a form built
// from its manifest's config schema. GET/PUT/DELETE /channels/{id}/bot.

import { api } from '../../api.js';
import { el, field, input, select, showError, clearErrors, say } from '../form.js';
import { readOnly, buttons, button } from './config.js';

/** A control for one schema field; `value` is the channel's current one. */
function configControl(name, spec, value) {
  let control;
  switch (spec.type) {
    case 'boolean':
      control = input({ type: 'checkbox', checked: Boolean(value) });
      break;
    case 'integer':
    case 'number':
      control = input({ type: 'number', value: value ?? '', step: spec.type === 'integer' ? 1 : 'any', min: spec.min, max: spec.max });
      break;
    case 'string-list':
      control = document.createElement('textarea');
      control.rows = 3;
      control.value = Array.isArray(value) ? value.join('\n') : '';
      break;
    default:
      control = input({ type: spec.secret ? 'password' : (spec.type === 'url' ? 'url' : 'text'), value: value ?? '', autocomplete: 'off' });
  }
  control.required = Boolean(spec.required);
  control.dataset.config = name;
  control.dataset.type = spec.type;
  const hint = [spec.description, spec.type === 'string-list' ? 'One per line.' : '', spec.secret ? 'Secret: kept as it is while it shows ********.' : '']
    .filter(Boolean).join(' ');
  return field(`${name}${spec.required ? ' (required)' : ''}`, control, { name: `config.${name}`, hint: hint || undefined });
}

function readConfig(box) {
  const config = {};
  for (const control of box.querySelectorAll('[data-config]')) {
    const name = control.dataset.config;
    const type = control.dataset.type;
    if (type === 'boolean') config[name] = control.checked;
    else if (type === 'string-list') {
      const lines = control.value.split('\n').map((l) => l.trim()).filter(Boolean);
      if (lines.length) config[name] = lines;
    } else if (type === 'integer' || type === 'number') {
      if (control.value !== '') config[name] = Number(control.value);
    } else if (control.value !== '') config[name] = control.value;
  }
  return config;
}

export async function render(panel, ctx) {
  const { channel, editable } = ctx;
  const path = `/channels/${encodeURIComponent(channel.id)}/bot`;
  const { bot } = await api('GET', path);
  // Only admins may list plugins; a supervisor sees the bot that is set.
  let bots = [];
  let unavailable = '';
  if (editable) {
    try {
      bots = (await api('GET', '/plugins')).filter((p) => p.kind === 'bot');
    } catch (err) {
      unavailable = err.message;
    }
  }
  if (bot && !bots.some((b) => b.name === bot.plugin)) bots.push({ name: bot.plugin, config: {} });

  const form = el('form', null, 'settings-form');
  form.noValidate = true;
  const choices = [['', 'No bot: new sessions go straight to the queue'], ...bots.map((b) => [b.name, b.name])];
  const plugin = select(choices, bot ? bot.plugin : '');
  const timeout = input({ type: 'number', min: 5, max: 86400, step: 1, value: bot ? bot.timeout_secs : 60 });
  const timeoutField = field('Bot timeout (seconds)', timeout, {
    name: 'timeout_secs',
    hint: 'How long the bot may leave a customer\'s message unanswered before the session goes to the queue; 5 to 86400.',
  });
  const settings = el('fieldset', null, 'bot-config');
  const showSchema = () => {
    settings.replaceChildren(el('legend', 'The bot\'s settings'));
    const chosen = bots.find((b) => b.name === plugin.value);
    const schema = (chosen && chosen.config) || {};
    const current = bot && bot.plugin === plugin.value ? bot.config || {} : {};
    const names = Object.keys(schema);
    if (names.length === 0) settings.append(el('p', 'This bot has no settings.', 'hint'));
    for (const name of names) settings.append(configControl(name, schema[name], current[name]));
    settings.hidden = !plugin.value;
    timeoutField.hidden = !plugin.value;
    readOnly(form, editable);
  };
  plugin.addEventListener('change', showSchema);
  let hint;
  if (unavailable) hint = `Bots cannot be listed: ${unavailable}.`;
  else if (editable && bots.length === 0) hint = 'No bot is installed: install one on the Plugins page (or `frontdesk plugin install`) first.';
  form.append(field('Bot', plugin, { name: 'plugin', hint }), timeoutField, settings,
    buttons(button('Save chat bot', 'submit')));
  panel.append(form);
  showSchema();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      if (!plugin.value) {
        await api('DELETE', path);
        say('No bot: new sessions go straight to the queue.', true);
        return;
      }
      await api('PUT', path, { plugin: plugin.value, timeout_secs: Number(timeout.value), config: readConfig(settings) });
      say(`New sessions go to ${plugin.value} first.`, true);
    } catch (err) {
      // The schema's message names the field inside: `config field "x": ...`.
      const named = /config field "([^"]+)"/.exec(err.message || '');
      if (named && (err.message || '').startsWith('config:')) {
        showError(form, new Error(`config.${named[1]}: ${err.message.slice('config: '.length)}`));
      } else {
        showError(form, err);
      }
    }
  });
}
