// Settings · Plugins · Catalogues (issue 17): what the configured catalogues
// offer (description, publisher, who signed it, permissions, versions), and
// installing one with a click after reading its permissions. The server
// downloads the package, checks its sha256 and its publisher's signature,
// and records this admin's approval of the permissions.

import { api } from '../api.js';
import { el, heading } from './form.js';

/** One offered package: what it is, what it may do, and its install button. */
function offer(item, ctx, reload) {
  const card = el('article', null, 'plugin offer');
  const title = heading(`${item.name} ${item.version}`, 3);
  title.id = `offer-${item.name}-${item.version}`.replace(/[^a-zA-Z0-9_-]/g, '-');
  card.setAttribute('aria-labelledby', title.id);
  card.dataset.offer = `${item.name}@${item.version}`;
  card.append(title);
  const facts = el('dl');
  const fact = (term, value) => facts.append(el('dt', term), el('dd', value));
  fact('Kind', item.kind);
  if (item.description) fact('Description', item.description);
  fact('Publisher', item.publisher || 'not named');
  fact('Signed by', item.trusted ? `${item.signed_by} (trusted)` : `${item.signed_by} (NOT trusted by this server: install is refused)`);
  fact('Plugin API', item.api);
  fact('Installed', item.installed ? `version ${item.installed} is active` : 'no');
  card.append(facts);
  card.append(heading('Permissions it asks for', 4));
  if (item.permissions.length === 0) {
    card.append(el('p', 'None: no network, mail or stored data.'));
  } else {
    const list = el('ul', null, 'permissions');
    for (const line of item.permissions) list.append(el('li', line));
    card.append(list);
  }
  if (item.installed !== item.version) {
    const upgrade = Boolean(item.installed);
    const button = el('button', upgrade ? 'Upgrade to this version' : 'Install');
    button.type = 'button';
    button.setAttribute('aria-label', `${upgrade ? 'Upgrade to' : 'Install'} ${item.name} ${item.version}, granting the permissions above`);
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const plugins = await api('POST', upgrade ? '/plugins/upgrade' : '/plugins/install', { name: item.name, version: item.version });
        const mine = plugins.find((p) => p.name === item.name);
        ctx.say(mine && mine.awaiting_approval === item.version
          ? `${item.name} ${item.version} asks for more permissions than the active version: approve it below.`
          : `${item.name} ${item.version} is installed.`, true);
        reload(plugins);
      } catch (err) {
        ctx.say(err.message);
        button.disabled = false;
      }
    });
    card.append(button);
  }
  return card;
}

/** The catalogues section; `reload` refreshes the installed list. */
export function catalogueSection(ctx, reload) {
  const section = el('section', null, 'catalogue');
  const title = heading('Catalogues', 2);
  title.id = 'catalogue-title';
  section.setAttribute('aria-labelledby', title.id);
  const body = el('div');
  section.append(title, body);
  const load = async () => {
    let catalogue;
    try {
      catalogue = await api('GET', '/plugins/catalogue');
    } catch (err) {
      body.replaceChildren(el('p', err.message));
      return;
    }
    const parts = [];
    if (catalogue.catalogues.length === 0) {
      parts.push(el('p', 'No catalogue is configured: start the server with --catalogue URL|DIR (FRONTDESK_CATALOGUES).'));
    }
    for (const source of catalogue.catalogues) {
      if (source.error) parts.push(el('p', `${source.source} could not be read: ${source.error}`, 'field-error'));
    }
    const refresh = (plugins) => { reload(plugins); load(); };
    for (const item of catalogue.plugins) parts.push(offer(item, ctx, refresh));
    if (catalogue.catalogues.length > 0 && catalogue.plugins.length === 0) parts.push(el('p', 'The catalogues offer no packages.'));
    body.replaceChildren(...parts);
  };
  load();
  return section;
}
