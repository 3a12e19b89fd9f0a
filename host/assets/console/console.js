// The agent console: session lists kept live over /api/v1/live, one open
// session with its log, reply box, contact card and actions.
//
// Safety rule for this file: text from customers (and from anyone else) is
// only ever set with textContent or as a form value, never as markup.

import { api, download, LiveSocket } from './api.js';
import { initSignIn, showLogin as showLoginForm, signOutOnServer } from './signin.js';
import { Canned } from './canned.js';

const $ = (id) => document.getElementById(id);

/** Creates an element with text content and optional class. */
function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

const WAITING = new Set(['queued', 'offered']);
const ACTIVITY_EVERY_MS = 30_000;

const state = {
  me: null,
  channels: new Map(),
  people: new Map(),
  sessions: new Map(),
  contacts: new Map(),
  open: null,
  messages: new Map(),
  live: null,
  lastActivity: 0,
  renderQueued: false,
  // A `resync` refetch in flight: `again` when another resync came
  // meanwhile, `seen` the session frames that arrived during it.
  resync: null,
};

const canned = new Canned($('reply-text'), $('canned-hint'), $('canned-pick'));

// ---- status line ----------------------------------------------------------

let statusTimer = null;
function say(message, ok = false) {
  const box = $('status');
  box.textContent = message;
  box.classList.toggle('ok', ok);
  box.hidden = false;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => { box.hidden = true; }, ok ? 2500 : 8000);
}

/** Runs an action; shows its error instead of throwing. */
async function attempt(action) {
  try {
    return await action();
  } catch (err) {
    if (err.status === 401) return signOut(err.message);
    say(err.message || String(err));
    return undefined;
  }
}

// ---- signing in -----------------------------------------------------------

function showLogin(message) {
  showLoginForm(message, say);
}

/** Forgets the signed-in user; `ended` is set when the server ended the session already. */
function signOut(message, ended = true) {
  if (state.live) state.live.stop();
  state.live = null;
  state.sessions.clear();
  if (!ended) signOutOnServer();
  showLogin(message);
}

$('logout-btn').addEventListener('click', () => signOut(undefined, false));

async function start() {
  let me;
  try {
    me = await api('GET', '/me');
  } catch (err) {
    return showLogin(err.status === 401 ? undefined : err.message);
  }
  state.me = me;
  $('login').hidden = true;
  $('app').hidden = false;
  $('me-name').textContent = me.name;
  $('me-role').textContent = me.role;
  $('all-section').hidden = me.role === 'agent';
  renderShift();
  await attempt(loadDirectory);
  await attempt(loadSessions);
  state.live = new LiveSocket(onFrame, (up) => {
    $('live-state').textContent = up ? 'live' : 'reconnecting…';
    $('live-state').classList.toggle('on', up);
  });
  state.live.start();
}

async function loadDirectory() {
  const [channels, people] = await Promise.all([api('GET', '/channels'), api('GET', '/colleagues')]);
  state.channels = new Map(channels.map((c) => [c.id, c]));
  state.people = new Map(people.map((p) => [p.id, p]));
  if (!state.people.has(state.me.id)) {
    state.people.set(state.me.id, { id: state.me.id, name: state.me.name, role: state.me.role });
  }
}

/** Open sessions by state (so old closed ones never crowd them out), plus
 * the latest of all for supervisors' and admins' overview. */
const OPEN_STATES = ['queued', 'offered', 'assigned', 'answered', 'waiting', 'closing', 'rating'];

async function loadSessions() {
  const queries = OPEN_STATES.map((s) => `/sessions?state=${s}&limit=500`);
  if (state.me.role !== 'agent') queries.push('/sessions?limit=200');
  const lists = await Promise.all(queries.map((q) => api('GET', q)));
  state.sessions = new Map(lists.flat().map((s) => [s.id, s]));
  scheduleRender();
}

// ---- presence and shift (R12, R7) ----------------------------------------

function activity() {
  const now = Date.now();
  if (state.live && now - state.lastActivity > ACTIVITY_EVERY_MS) {
    state.lastActivity = now;
    state.live.activity();
  }
}
for (const type of ['keydown', 'pointerdown', 'focus']) {
  window.addEventListener(type, activity, { capture: true, passive: true });
}

function renderShift() {
  const me = state.me;
  $('shift-state').textContent = !me.clocked_in ? 'clocked out' : me.on_break ? 'on a break' : 'clocked in';
  $('clock-btn').textContent = me.clocked_in ? 'Clock out' : 'Clock in';
  $('break-btn').textContent = me.on_break ? 'End break' : 'Break';
  $('break-btn').disabled = !me.clocked_in;
}

$('clock-btn').addEventListener('click', () => attempt(async () => {
  state.me = await api('PUT', '/me/shift', { clocked_in: !state.me.clocked_in, on_break: false });
  renderShift();
}));

$('break-btn').addEventListener('click', () => attempt(async () => {
  state.me = await api('PUT', '/me/shift', { on_break: !state.me.on_break });
  renderShift();
}));

// ---- live frames ----------------------------------------------------------

function onFrame(frame) {
  switch (frame.type) {
    case 'session':
      state.sessions.set(frame.session.id, frame.session);
      if (state.resync) state.resync.seen.push(frame.session);
      if (state.open === frame.session.id) renderHead();
      scheduleRender();
      break;
    case 'message': {
      const s = state.sessions.get(frame.session_id);
      if (s) s.last_message_at = Math.max(s.last_message_at, frame.message.created_at);
      if (state.open === frame.session_id) addMessage(frame.message);
      scheduleRender();
      break;
    }
    case 'resync':
      resync();
      break;
    default:
      break;
  }
}

/**
 * Events were lost (the socket fell behind, or reconnected): refetch the
 * lists and the open session's messages. Resyncs that arrive while one runs
 * make one more run, not one each, so a console that keeps falling behind
 * does not flood the server. Session frames that arrive during the refetch
 * may be newer than the rows it returns, so they are applied again on top.
 */
async function resync() {
  if (state.resync) {
    state.resync.again = true;
    return;
  }
  do {
    state.resync = { again: false, seen: [] };
    await attempt(async () => {
      await loadSessions();
      if (state.open !== null) await loadMessages(state.open);
    });
    for (const s of state.resync.seen) state.sessions.set(s.id, s);
    scheduleRender();
  } while (state.resync.again);
  state.resync = null;
}

// ---- session lists --------------------------------------------------------

function scheduleRender() {
  if (state.renderQueued) return;
  state.renderQueued = true;
  requestAnimationFrame(() => {
    state.renderQueued = false;
    renderLists();
  });
}

function renderLists() {
  const me = state.me.id;
  // A session transferred to a channel I am not in leaves my lists (its
  // last event reached me so that it could).
  const held = (s) => s.agent_id === me;
  const all = [...state.sessions.values()]
    .filter((s) => state.me.role === 'admin' || held(s) || state.channels.has(s.channel_id));
  // Waiting sessions, including those offered to someone else (anyone in
  // the queue may take them); one offered to me is under My sessions.
  const queue = all.filter((s) => WAITING.has(s.state) && s.agent_id !== me)
    .sort((a, b) => a.created_at - b.created_at);
  const mine = all.filter((s) => s.agent_id === me && s.state !== 'closed')
    .sort((a, b) => b.last_message_at - a.last_message_at);
  fill('queue-list', 'queue-count', queue, 'Nobody is waiting.');
  fill('mine-list', 'mine-count', mine, 'No open sessions.');
  if (state.me.role !== 'agent') {
    fill('all-list', 'all-count', all.sort((a, b) => b.id - a.id).slice(0, 200), 'No sessions yet.');
  }
}

function fill(listId, countId, sessions, emptyText) {
  const list = $(listId);
  $(countId).textContent = String(sessions.length);
  const rows = sessions.map((s) => {
    const li = document.createElement('li');
    const button = el('button', undefined);
    button.type = 'button';
    button.dataset.session = String(s.id);
    if (state.open === s.id) button.setAttribute('aria-current', 'true');
    button.append(
      el('span', contactName(s), 'who'),
      el('span', s.state, 'state'),
      el('span', `#${s.id} · ${channelName(s.channel_id)} · ${s.source}`, 'where'),
      el('span', time(s.last_message_at), 'where'),
    );
    button.addEventListener('click', () => openSession(s.id));
    li.append(button);
    return li;
  });
  if (rows.length === 0) rows.push(el('li', emptyText, 'empty-row'));
  list.replaceChildren(...rows);
}

function channelName(id) {
  const c = state.channels.get(id);
  return c ? c.name : `channel ${id}`;
}

function personName(id) {
  const p = state.people.get(id);
  return p ? p.name : `user ${id}`;
}

/** The contact's name once fetched; asks for it the first time. */
function contactName(session) {
  const known = state.contacts.get(session.contact_id);
  if (known) return known.name || `contact ${session.contact_id}`;
  if (known === undefined) {
    state.contacts.set(session.contact_id, null);
    api('GET', `/contacts/${session.contact_id}`)
      .then((c) => { state.contacts.set(c.id, c); scheduleRender(); })
      .catch(() => {});
  }
  return `contact ${session.contact_id}`;
}

function time(ms) {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleString();
}

// ---- the open session -----------------------------------------------------

async function openSession(id) {
  state.open = id;
  state.messages = new Map();
  $('log').replaceChildren();
  $('empty').hidden = true;
  $('chat').hidden = false;
  $('side').hidden = false;
  scheduleRender();
  await attempt(async () => {
    const detail = await api('GET', `/sessions/${id}`);
    state.sessions.set(id, detail.session);
    renderHead();
    const session = detail.session;
    await Promise.all([
      loadMessages(id),
      renderContact(session.contact_id),
      canned.load(session.channel_id),
      renderRatings(id),
    ]);
  });
  $('reply-text').focus();
}

async function loadMessages(id) {
  let after = 0;
  for (;;) {
    const page = await api('GET', `/sessions/${id}/messages?after=${after}&limit=500`);
    if (state.open !== id) return;
    page.forEach(addMessage);
    if (page.length < 500) return;
    after = page[page.length - 1].id;
  }
}

function addMessage(m) {
  if (state.messages.has(m.id)) return;
  state.messages.set(m.id, m);
  const li = el('li', undefined, m.direction === 'in' ? 'in' : 'out');
  li.dataset.message = String(m.id);
  const who = m.direction === 'in' ? 'Customer' : m.author_id ? personName(m.author_id) : 'Automatic';
  li.append(el('div', `${who} · ${time(m.created_at)}${m.edit_of ? ' · edited' : ''}`, 'meta'));
  if (m.body) li.append(el('div', m.body, 'body'));
  if (m.attachments && m.attachments.length) {
    const files = el('div', undefined, 'files');
    for (const a of m.attachments) {
      const link = el('a', `📎 ${a.file_name || a.kind}${a.state === 'stored' ? '' : ` (${a.state})`}`);
      link.href = '#';
      link.addEventListener('click', (event) => {
        event.preventDefault();
        attempt(() => download(a.id, a.file_name));
      });
      files.append(link);
    }
    li.append(files);
  }
  // Keep the log in id order even when a live frame and a fetch race.
  const log = $('log');
  const later = [...log.children].find((c) => Number(c.dataset.message) > m.id);
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.insertBefore(li, later || null);
  if (atBottom || !later) log.scrollTop = log.scrollHeight;
}

function renderHead() {
  const s = state.sessions.get(state.open);
  if (!s) return;
  $('chat-title').textContent = `${contactName(s)} · #${s.id} · ${channelName(s.channel_id)}`;
  $('chat-state').textContent = s.state;
  $('chat-agent').textContent = s.agent_id ? `with ${personName(s.agent_id)}` : 'nobody has it';
  const closed = s.state === 'closed';
  const mine = s.agent_id === state.me.id;
  // An offer to me is taken (accepted) the same way as a queued session.
  $('take-btn').hidden = closed || (mine && s.state !== 'offered');
  $('close-btn').disabled = closed;
  $('transfer-btn').disabled = closed;
  $('send-btn').disabled = closed;
  $('reply-text').disabled = closed;
  renderTransferTargets(s);
}

function renderTransferTargets(session) {
  const select = $('transfer-to');
  const keep = select.value;
  const options = [];
  const agents = el('optgroup');
  agents.label = 'Agents';
  for (const p of state.people.values()) {
    if (p.id === session.agent_id) continue;
    const o = el('option', `${p.name}${p.available ? '' : ' (not clocked in)'}`);
    o.value = `agent:${p.id}`;
    agents.append(o);
  }
  const queues = el('optgroup');
  queues.label = 'Queues';
  for (const c of state.channels.values()) {
    const o = el('option', `${c.name} queue`);
    o.value = `channel:${c.id}`;
    queues.append(o);
  }
  options.push(agents, queues);
  select.replaceChildren(...options);
  if (keep) select.value = keep;
}

async function renderContact(contactId) {
  const dl = $('contact');
  dl.replaceChildren();
  const c = await api('GET', `/contacts/${contactId}`);
  state.contacts.set(c.id, c);
  const rows = [['Name', c.name], ['Email', c.email], ['Phone', c.phone],
    ['Responsible', c.responsible_user_id ? personName(c.responsible_user_id) : null],
    ['Since', new Date(c.created_at).toLocaleDateString()]];
  for (const [label, value] of rows) {
    if (value === null || value === undefined || value === '') continue;
    dl.append(el('dt', label), el('dd', value));
  }
  // C1: details the customer typed (the widget's pre-chat form) were never
  // checked; they match nobody until an agent merges them by hand.
  if (c.unverified) {
    dl.append(el('dt', 'Identity'),
      el('dd', 'Unverified: the customer typed these details; nobody checked them.', 'unverified'));
    if (c.possible_match_id) {
      const dd = el('dd', `Contact #${c.possible_match_id} has the same email or phone. `);
      const merge = el('button', `Merge into #${c.possible_match_id}`);
      merge.type = 'button';
      merge.addEventListener('click', () => mergeInto(c.possible_match_id, c.id));
      dd.append(merge);
      dl.append(el('dt', 'Possible match'), dd);
    }
  }
  renderHead();
}

/** Folds the unverified contact `from` into `into` (C1's merge), then shows the session again. */
function mergeInto(into, from) {
  const id = state.open;
  return attempt(async () => {
    await api('POST', `/contacts/${into}/merge`, { from });
    state.contacts.delete(from);
    const detail = await api('GET', `/sessions/${id}`);
    state.sessions.set(detail.session.id, detail.session);
    say(`Merged into contact #${into}.`, true);
    await renderContact(into);
    scheduleRender();
  });
}

async function renderRatings(id) {
  const section = $('rating-section');
  section.hidden = state.me.role === 'agent';
  if (section.hidden) return;
  const ratings = await api('GET', `/sessions/${id}/ratings`);
  const items = ratings.map((r) => {
    const by = r.rated_by ? ` (${personName(r.rated_by)})` : '';
    return el('li', `${r.rater}${by}: ${r.score}/5${r.comment ? ` — ${r.comment}` : ''}`);
  });
  if (items.length === 0) items.push(el('li', 'Not rated yet.', 'muted'));
  $('ratings').replaceChildren(...items);
}

// ---- actions (R18, Q3) ----------------------------------------------------

function act(path, body) {
  const id = state.open;
  if (id === null) return undefined;
  return attempt(async () => {
    const session = await api('POST', `/sessions/${id}/${path}`, body);
    state.sessions.set(session.id, session);
    renderHead();
    scheduleRender();
    return session;
  });
}

$('take-btn').addEventListener('click', () => act('take'));
$('close-btn').addEventListener('click', async () => {
  if (await act('close')) say('Session closed.', true);
});
$('transfer-btn').addEventListener('click', async () => {
  const [kind, raw] = $('transfer-to').value.split(':');
  if (!raw) return say('Pick an agent or a queue to transfer to.');
  const body = kind === 'agent' ? { agent_id: Number(raw) } : { channel_id: Number(raw) };
  if (await act('transfer', body)) say('Session transferred.', true);
});

$('rating-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = state.open;
  attempt(async () => {
    const comment = $('rating-comment').value.trim();
    await api('POST', `/sessions/${id}/ratings`, {
      score: Number($('rating-score').value),
      comment: comment || null,
    });
    $('rating-comment').value = '';
    say('Rating saved.', true);
    await renderRatings(id);
  });
});

async function sendReply() {
  const box = $('reply-text');
  const text = box.value;
  const id = state.open;
  if (!text.trim() || id === null) return;
  box.disabled = true;
  const sent = await attempt(() => api('POST', `/sessions/${id}/messages`, { text }));
  box.disabled = false;
  if (sent) {
    box.value = '';
    canned.update();
    if (state.open === id) addMessage(sent.message);
  }
  box.focus();
}

$('reply-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sendReply();
});

$('reply-text').addEventListener('keydown', (event) => {
  if (event.key === 'Tab' && !event.shiftKey && canned.expand()) {
    event.preventDefault();
  } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    sendReply();
  }
});

document.addEventListener('keydown', (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey || !state.me) return;
  const key = event.key.toLowerCase();
  if (key === 'q') {
    const first = $('queue-list').querySelector('button');
    if (first) { event.preventDefault(); openSession(Number(first.dataset.session)); }
  } else if (key === 't' && state.open !== null && !$('take-btn').hidden) {
    event.preventDefault(); act('take');
  } else if (key === 'c' && state.open !== null) {
    event.preventDefault(); $('close-btn').click();
  } else if (key === 'r' && state.open !== null) {
    event.preventDefault(); $('reply-text').focus();
  }
});

// Signed out (no CSRF cookie): the form at once, without a request that
// could only answer 401.
if (!initSignIn(start, say)) {
  if (document.cookie.split('; ').some((c) => c.startsWith('frontdesk_csrf='))) start();
  else showLogin();
}
