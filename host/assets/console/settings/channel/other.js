// Channel · Other: the channel's name (shown to customers, O1), its
// language (O3: the auto-actions' texts), and whether it is enabled;
// enabling runs the provider setup again. Below them, the connector's own
// settings as its plugin's schema describes them (GET /channel-kinds);
// secrets show as ******** and are kept unless a new value is typed.
// Retention (config `retention_days`, docs/data-protection.md): empty keeps
// every conversation.

import { api } from '../../api.js';
import { el, field, input, select } from '../form.js';
import { schemaFields, showConfigError } from '../schema_form.js';
import { tabForm, checkbox } from './tab_form.js';

const LANGUAGES = [['', 'Server default'], ['en', 'English'], ['de', 'German'], ['fr', 'French'], ['es', 'Spanish'],
  ['it', 'Italian'], ['nl', 'Dutch'], ['pl', 'Polish'], ['pt', 'Portuguese'], ['ru', 'Russian'], ['uk', 'Ukrainian']];

export async function render(panel, ctx) {
  let config = ctx.channel.config || {};
  const name = input({ type: 'text', name: 'name', maxlength: 200 });
  name.value = ctx.channel.name;
  const known = LANGUAGES.some(([code]) => code === (config.language || ''));
  const options = known ? LANGUAGES : [...LANGUAGES, [config.language, config.language]];
  const language = select(options, config.language || '');
  language.name = 'config.language';
  const retention = input({ type: 'number', name: 'config.retention_days', min: 1, max: 36500, step: 1 });
  retention.value = config.retention_days || '';
  const kinds = await api('GET', '/channel-kinds');
  const schema = (kinds.find((k) => k.kind === ctx.channel.kind) || { config: {} }).config;
  const connector = schemaFields(schema, config, { disabled: !ctx.editable });
  // The connector's fields as read, to send the config only when they change.
  let before = JSON.stringify(connector.read());
  const form = tabForm(panel, ctx, (box) => {
    box.append(
      field('Name', name, { hint: 'Shown to customers, e.g. in the chat window header.' }),
      field('Language', language, { hint: 'The language of the automatic messages.' }),
      field('Keep conversations (days)', retention, {
        hint: 'Closed conversations older than this lose their messages and files; statistics keep counting them. Empty keeps everything.',
      }),
      checkbox('Enabled', 'enabled', ctx.channel.enabled, 'A disabled channel takes no messages; enabling it runs the provider setup again.'),
    );
    if (connector.nodes.length) {
      const group = el('fieldset');
      group.append(el('legend', `${ctx.channel.kind} connector settings`), ...connector.nodes);
      box.append(group);
    }
  }, async () => {
    const patch = { name: name.value };
    const enabled = form.querySelector('input[name="enabled"]').checked;
    if (enabled !== ctx.channel.enabled) patch.enabled = enabled;
    const chosen = language.value;
    const fields = connector.read();
    const days = retention.value === '' ? null : Number(retention.value);
    if (chosen !== (config.language || '') || days !== (config.retention_days || null)
      || JSON.stringify(fields) !== before) {
      const next = { ...(ctx.channel.config || {}) };
      if (chosen) next.language = chosen;
      else delete next.language;
      if (days) next.retention_days = days;
      else delete next.retention_days;
      // Connector fields left empty are removed; a masked secret goes back as
      // ******** and the server keeps the stored value.
      for (const key of Object.keys(schema)) delete next[key];
      Object.assign(next, fields);
      patch.config = next;
    }
    // The whole config goes back, so choosing the default removes `language`.
    ctx.channel = await api('PATCH', `/channels/${ctx.channel.id}`, patch);
    config = ctx.channel.config || {};
    before = JSON.stringify(fields);
  }, showConfigError);
  return undefined;
}
