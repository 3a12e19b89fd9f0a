// Channel tab · Auto-actions (A1–A5, W2, Q1, Q2; U1, U2): the Rhai script
// each hook runs for this channel (/channels/{id}/scripts). A hook without
// a script of its own runs the script saved for all channels (if an admin
// saved one through /scripts), else the built-in default; the table says
// which. The editor checks a script with line and column before it is saved
// (POST /scripts/check), tests it against an example event the admin can
// edit (POST /scripts/test, as `frontdesk rules test`), and lists this
// channel's saved versions with Restore; Reset drops the channel's own.

import { api } from '../../api.js';
import { el, field, showError, clearErrors, say } from '../form.js';
import { readOnly, buttons, button } from './config.js';

const ABOUT = {
  first_message: 'greets the customer\'s first message during working hours',
  no_answer: 'runs when nobody answered within the unanswered interval',
  closed: 'says goodbye when a session closes',
  close_delay: 'picks how long a session an agent closed stays in "closing"',
  timeout: 'runs when a session has gone quiet for the channel\'s timeout',
  off_hours: 'answers customers who write outside working hours',
  ask_rating: 'asks the customer for a rating when a session closes',
  rating_received: 'answers the customer\'s rating',
};

/** An example event for `hook`, in the format of host/rules/examples/*.json. */
export function exampleEvent(hook, channel) {
  const now = Date.UTC(2026, 0, 5, 9, 10);
  const started = now - 10 * 60_000;
  const event = {
    now,
    session: {
      id: 9, state: hook === 'rating_received' ? 'rating' : 'offered', started_at: started,
      last_message_at: started, last_customer_message_at: started, customer_messages: 1,
      agent_messages: 0, last_author: 'customer', unanswered: true,
    },
    contact: { name: 'Jonas', email: 'jonas@example.com' },
    channel: { name: channel.name, language: (channel.config && channel.config.language) || 'en', mode: 'strict' },
    message: 'Hello, is anybody there?',
  };
  if (channel.config && channel.config.working_hours) event.channel.working_hours = channel.config.working_hours;
  if (hook === 'rating_received') event.rating = { score: 2, comment: 'Took too long.' };
  if (hook === 'ask_rating' || hook === 'closed') Object.assign(event.session, { state: 'closed', agent_name: 'Ana', agent_messages: 2, last_author: 'agent', unanswered: false });
  return JSON.stringify(event, null, 2);
}

/** How an action reads to an admin. */
function describe(action) {
  switch (action.action) {
    case 'reply': return `Reply to the customer: "${action.text}"`;
    case 'back_to_queue': return 'Put the session back in the queue';
    case 'close': return action.message ? `Close the session, saying: "${action.message}"` : 'Close the session';
    case 'close_after': return `Close the session after ${Math.round(action.delay_ms / 1000)} s`;
    case 'ask_rating': return `Ask for a rating: "${action.text}"`;
    default: return JSON.stringify(action);
  }
}

/** A textarea with a line-number gutter kept in step with it. */
function editor(source, labelText) {
  const label = el('label', labelText, 'editor-label');
  const box = el('div', null, 'editor');
  const gutter = el('pre', null, 'gutter');
  gutter.setAttribute('aria-hidden', 'true');
  const text = document.createElement('textarea');
  text.id = 'script-source';
  text.spellcheck = false;
  text.wrap = 'off';
  text.rows = 16;
  text.value = source;
  text.dataset.field = 'source';
  label.htmlFor = text.id;
  const numbers = () => {
    const lines = text.value.split('\n').length;
    gutter.textContent = Array.from({ length: lines }, (_, i) => i + 1).join('\n');
    gutter.scrollTop = text.scrollTop;
  };
  text.addEventListener('input', numbers);
  text.addEventListener('scroll', () => { gutter.scrollTop = text.scrollTop; });
  numbers();
  box.append(gutter, text);
  label.append(box);
  return { label, text, numbers };
}

/** Puts the caret at `line`, `column` (1-based) of `text`. */
function goTo(text, line, column) {
  const lines = text.value.split('\n');
  let at = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i += 1) at += lines[i].length + 1;
  at += Math.max(0, column - 1);
  text.focus();
  text.setSelectionRange(at, at);
}

/** Where a hook's running script comes from, as the table and editor say it. */
const RUNS = {
  channel: 'this channel\'s script',
  all_channels: 'the script for all channels',
  default: 'built-in default',
};

/** The API path of this channel's scripts. */
const base = (channel) => `/channels/${encodeURIComponent(channel.id)}/scripts`;

async function showVersions(box, path, editable, restored) {
  const versions = await api('GET', `${path}/versions`);
  box.replaceChildren(el('h3', 'Versions'));
  if (versions.length === 0) {
    box.append(el('p', 'This channel has no saved versions of this script.', 'hint'));
    return;
  }
  const list = el('ol', null, 'versions');
  versions.forEach((v, i) => {
    const item = el('li');
    const when = new Date(v.saved_at).toLocaleString();
    const what = v.source === null ? 'reset to the default' : `${v.source.split('\n').length} line(s)`;
    item.append(el('span', `${when}: ${what}${i === 0 ? ' (running now)' : ''}`));
    if (v.source !== null) {
      const peek = el('details');
      peek.append(el('summary', 'Show'), el('pre', v.source, 'script-peek'));
      item.append(peek);
    }
    if (i > 0 && editable) {
      const restore = button('Restore');
      restore.setAttribute('aria-label', `Restore the version of ${when}`);
      restore.addEventListener('click', async () => {
        try {
          await api('POST', `${path}/versions/${v.id}/restore`);
          say('That version runs again.', true);
          await restored();
        } catch (err) {
          say(err.message);
        }
      });
      item.append(' ', restore);
    }
    list.append(item);
  });
  box.append(list);
}

async function showHook(area, script, ctx, reload) {
  const { channel, editable } = ctx;
  const hook = script.hook;
  const path = `${base(channel)}/${hook}`;
  area.replaceChildren(el('h3', `${hook} (${script.spec_id})`));
  area.append(el('p', `This script ${ABOUT[hook] || 'runs at its hook'}. On ${channel.name}, ${RUNS[script.runs] || script.runs} runs now.`, 'hint'));

  const form = el('form', null, 'settings-form script-form');
  form.noValidate = true;
  const { label, text, numbers } = editor(script.source, `Script for ${hook}`);
  const problems = el('div', null, 'script-problems');
  problems.id = 'script-problems';
  problems.setAttribute('role', 'status');
  const check = button('Check');
  const save = button('Save script', 'submit');
  const reset = button('Reset to default');
  form.append(label, problems, buttons(check, save, reset));

  const defaults = el('details', null, 'default-script');
  defaults.append(el('summary', 'The default (what runs without this channel\'s own script)'), el('pre', script.default_source, 'script-peek'));

  const test = el('form', null, 'settings-form test-form');
  test.noValidate = true;
  const event = document.createElement('textarea');
  event.rows = 10;
  event.spellcheck = false;
  event.value = exampleEvent(hook, channel);
  const run = button('Test', 'submit');
  const actions = el('div', null, 'test-actions');
  actions.id = 'test-actions';
  actions.setAttribute('role', 'status');
  test.append(el('h4', 'Test against an example event'),
    field('Example event (JSON)', event, { name: 'event', hint: 'Edit it freely: now, session, contact, channel, message, rating. Nothing is sent or saved.' }),
    buttons(run), actions);

  const versions = el('section', null, 'versions-box');
  versions.setAttribute('aria-label', 'Versions');
  area.append(form, defaults, test, versions);
  readOnly(form, editable);
  readOnly(test, editable);

  const runCheck = async () => {
    clearErrors(form);
    const result = await api('POST', '/scripts/check', { source: text.value });
    problems.replaceChildren();
    if (result.errors.length === 0) {
      problems.append(el('p', 'No errors: the script compiles.', 'ok'));
      return true;
    }
    for (const e of result.errors) {
      const where = el('button', `Line ${e.line}, column ${e.column}: ${e.message}`, 'problem');
      where.type = 'button';
      where.addEventListener('click', () => goTo(text, e.line, e.column));
      problems.append(where);
    }
    return false;
  };
  check.addEventListener('click', () => runCheck().catch((err) => say(err.message)));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    problems.replaceChildren();
    try {
      await api('PUT', path, { source: text.value });
      say(`The ${hook} script is saved and runs on ${channel.name} from the next event on.`, true);
      await reload(hook);
    } catch (err) {
      showError(form, err);
      const at = /line (\d+), column (\d+)/.exec(err.message || '');
      if (at) goTo(text, Number(at[1]), Number(at[2]));
    }
  });
  reset.addEventListener('click', async () => {
    try {
      await api('DELETE', path);
      say(`The ${hook} script of ${channel.name} is back to the default.`, true);
      await reload(hook);
    } catch (err) {
      say(err.message);
    }
  });
  test.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(test);
    clearErrors(form);
    actions.replaceChildren();
    let parsed;
    try {
      parsed = JSON.parse(event.value);
    } catch (err) {
      showError(test, new Error(`event is not JSON: ${err.message}`));
      return;
    }
    try {
      const result = await api('POST', '/scripts/test', { hook, source: text.value, event: parsed });
      if (result.actions.length === 0) {
        actions.append(el('p', 'The script takes no action for this event.'));
        return;
      }
      actions.append(el('p', 'The script would:'));
      const list = el('ul');
      for (const a of result.actions) list.append(el('li', describe(a)));
      actions.append(list);
    } catch (err) {
      if ((err.message || '').startsWith('source:')) showError(form, err);
      else showError(test, err);
    }
  });
  numbers();
  await showVersions(versions, path, editable, () => reload(hook));
}

export async function render(panel, ctx) {
  panel.append(el('p', `These scripts run for ${ctx.channel.name} only: other channels keep their own. `
    + 'A hook without a script of its own runs the default. '
    + 'A script may read the channel it runs for (channel.name, channel.mode, channel.is_open(), ...).', 'scope-note'));
  const table = el('table', null, 'hooks');
  const area = el('section', null, 'hook-editor');
  area.setAttribute('aria-label', 'Script');
  panel.append(table, area);

  const load = async (open) => {
    const scripts = await api('GET', base(ctx.channel));
    const head = el('thead');
    const headRow = el('tr');
    for (const title of ['Auto-action', 'When', 'Runs', '']) {
      const th = el('th', title);
      th.scope = 'col';
      headRow.append(th);
    }
    head.append(headRow);
    const body = el('tbody');
    for (const script of scripts) {
      const row = el('tr');
      const edit = button(ctx.editable ? 'Edit' : 'Show');
      edit.setAttribute('aria-label', `${ctx.editable ? 'Edit' : 'Show'} ${script.hook}`);
      edit.addEventListener('click', () => showHook(area, script, ctx, load).catch((err) => say(err.message)));
      const action = el('td');
      action.append(edit);
      row.append(el('td', `${script.hook} (${script.spec_id})`), el('td', ABOUT[script.hook] || ''),
        el('td', RUNS[script.runs] || script.runs), action);
      body.append(row);
    }
    table.replaceChildren(head, body);
    const chosen = scripts.find((s) => s.hook === open);
    if (chosen) await showHook(area, chosen, ctx, load);
  };
  await load(null);
}
