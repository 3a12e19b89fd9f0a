// Channel · Other: the channel's name (shown to customers, O1), its
// language (O3: the auto-actions' texts), and whether it is enabled;
// enabling runs the provider setup again.

import { api } from '../../api.js';
import { field, input, select } from '../form.js';
import { tabForm, checkbox } from './tab_form.js';

const LANGUAGES = [['', 'Server default'], ['en', 'English'], ['de', 'German'], ['fr', 'French'], ['es', 'Spanish'],
  ['it', 'Italian'], ['nl', 'Dutch'], ['pl', 'Polish'], ['pt', 'Portuguese'], ['ru', 'Russian'], ['uk', 'Ukrainian']];

export async function render(panel, ctx) {
  const config = ctx.channel.config || {};
  const name = input({ type: 'text', name: 'name', maxlength: 200 });
  name.value = ctx.channel.name;
  const known = LANGUAGES.some(([code]) => code === (config.language || ''));
  const options = known ? LANGUAGES : [...LANGUAGES, [config.language, config.language]];
  const language = select(options, config.language || '');
  language.name = 'config.language';
  const form = tabForm(panel, ctx, (box) => {
    box.append(
      field('Name', name, { hint: 'Shown to customers, e.g. in the chat window header.' }),
      field('Language', language, { hint: 'The language of the automatic messages.' }),
      checkbox('Enabled', 'enabled', ctx.channel.enabled, 'A disabled channel takes no messages; enabling it runs the provider setup again.'),
    );
  }, async () => {
    const patch = { name: name.value };
    const enabled = form.querySelector('input[name="enabled"]').checked;
    if (enabled !== ctx.channel.enabled) patch.enabled = enabled;
    const chosen = language.value;
    if (chosen !== (config.language || '')) {
      const next = { ...(ctx.channel.config || {}) };
      if (chosen) next.language = chosen;
      else delete next.language;
      patch.config = next;
    }
    // The whole config goes back, so choosing the default removes `language`.
    ctx.channel = await api('PATCH', `/channels/${ctx.channel.id}`, patch);
  });
  return undefined;
}
