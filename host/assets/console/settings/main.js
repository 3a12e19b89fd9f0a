// The settings pages (U1): who is signed in, the side menu, and one page
// module at a time, chosen by the address's fragment (`#channels`,
// `#channel/7/queue`, `#users`, ...), so Back and bookmarks work.
//
// A page module exports `render(root, ctx)`; it builds its page inside
// `root` and may return a function called when the page is left. `ctx`:
//   me       the signed-in user (GET /api/v1/me)
//   params   the fragment's parts after the page name
//   say      shows a message in the status line
//   editable whether the user may change settings (admins; O5)
//
// Safety rule: text from the server is set with textContent or as a form
// value, never as markup.

import { api } from '../api.js';
import { say } from './form.js';

// Each page in its own module, loaded when first shown.
const PAGES = {
  channels: () => import('./channels.js'),
  channel: () => import('./channel.js'),
  users: () => import('./users.js'),
  plugins: () => import('./plugins.js'),
  operations: () => import('./operations.js'),
  account: () => import('./account.js'),
};

const $ = (id) => document.getElementById(id);
let me = null;
let leave = null;

async function show() {
  const fallback = me.role === 'agent' ? 'account' : 'channels';
  const [name, ...params] = (location.hash.slice(1) || fallback).split('/');
  const load = PAGES[name];
  for (const link of $('settings-nav').querySelectorAll('a')) {
    if (link.getAttribute('href') === `#${name}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (leave) leave();
  leave = null;
  const root = $('page');
  root.replaceChildren();
  if (!load) {
    const h1 = document.createElement('h1');
    h1.textContent = 'No such settings page';
    root.append(h1);
    return;
  }
  try {
    const page = await load();
    leave = (await page.render(root, { me, params, say, editable: me.role === 'admin' })) || null;
  } catch (err) {
    say(err.message || String(err));
  }
  root.focus();
}

async function start() {
  try {
    me = await api('GET', '/me');
  } catch (err) {
    const p = document.createElement('p');
    const link = document.createElement('a');
    link.href = './';
    link.textContent = 'Sign in to the console';
    p.append(link, ' first; the settings use its sign-in.');
    $('page').replaceChildren(p);
    return;
  }
  $('me-name').textContent = me.name;
  $('me-role').textContent = me.role;
  // `data-roles` lists who sees a menu entry; the pages check again.
  for (const link of $('settings-nav').querySelectorAll('[data-roles]')) {
    link.hidden = !link.dataset.roles.split(' ').includes(me.role);
  }
  window.addEventListener('hashchange', show);
  await show();
}

start();
