// Channel · Queue (R1–R10): the agents in order, the distribution mode,
// the forward and unanswered intervals (entered in minutes, stored in
// seconds: 1 minute to 12 hours), and the routing options. Saves with
// PUT /channels/{id}/queue; options other tabs own (CRM, quality) are sent
// back as they were read.
//
// The order can be changed from the keyboard (Move up / Move down) and by
// dragging a row onto another.

import { api } from '../../api.js';
import { el, field, input, select, heading } from '../form.js';
import { tabForm, checkbox, radios, radioValue } from './tab_form.js';

const MODES = [
  ['evenly', 'Evenly', 'the agent who has waited longest since their last session gets the next one (R2)'],
  ['strict', 'Strict order', 'offered to agents in queue order, moving on after the forward interval (R3)'],
  ['everybody', 'Everybody', 'offered to every eligible agent at once; the first to accept takes it (R4)'],
];

const EXCLUSIONS = [
  ['closed_only', 'Count every open session'],
  ['replied', 'Leave out sessions the agent has replied to'],
  ['waiting_for_customer', 'Leave out sessions waiting for the customer'],
];

async function people(ctx) {
  // Admins pick from every user; supervisors only read the queue's names.
  const list = ctx.editable ? await api('GET', '/users') : await api('GET', '/colleagues');
  return new Map(list.map((u) => [u.id, u]));
}

export async function render(panel, ctx) {
  const id = ctx.channel.id;
  const [queue, users] = await Promise.all([api('GET', `/channels/${id}/queue`), people(ctx)]);
  let order = [...queue.agents];
  const nameOf = (user) => (users.get(user) ? users.get(user).name : `user ${user}`);

  const agentList = el('ol', null, 'queue-agents');
  agentList.id = 'queue-agents';
  agentList.setAttribute('aria-label', 'Agents in queue order');
  const adder = select([], '');
  const live = el('p', '', 'visually-hidden');
  live.setAttribute('aria-live', 'polite');

  let dragged = null;
  const move = (from, to, focusLabel) => {
    if (to < 0 || to >= order.length) return;
    const [agent] = order.splice(from, 1);
    order.splice(to, 0, agent);
    draw();
    live.textContent = `${nameOf(agent)} is now number ${to + 1} of ${order.length}.`;
    if (focusLabel) {
      const again = agentList.querySelector(`button[aria-label="${CSS.escape(focusLabel)}"]`)
        || agentList.querySelector(`li[data-agent="${agent}"] button`);
      if (again && !again.disabled) again.focus();
    }
  };
  const button = (text, label, onClick, disabled) => {
    const b = el('button', text);
    b.type = 'button';
    b.setAttribute('aria-label', label);
    b.disabled = disabled || !ctx.editable;
    b.addEventListener('click', onClick);
    return b;
  };
  function draw() {
    agentList.replaceChildren();
    order.forEach((agent, i) => {
      const name = nameOf(agent);
      const item = el('li');
      item.dataset.agent = agent;
      item.draggable = ctx.editable;
      item.append(el('span', name, 'agent-name'));
      item.append(
        button('Move up', `Move up (${name})`, () => move(i, i - 1, `Move up (${name})`), i === 0),
        button('Move down', `Move down (${name})`, () => move(i, i + 1, `Move down (${name})`), i === order.length - 1),
        button('Remove', `Remove ${name} from the queue`, () => {
          order.splice(i, 1);
          draw();
          live.textContent = `${name} removed from the queue.`;
          adder.focus();
        }),
      );
      item.addEventListener('dragstart', (event) => {
        dragged = i;
        event.dataTransfer.effectAllowed = 'move';
        event.dataTransfer.setData('text/plain', String(agent));
      });
      item.addEventListener('dragover', (event) => {
        if (dragged !== null) event.preventDefault();
      });
      item.addEventListener('drop', (event) => {
        event.preventDefault();
        if (dragged !== null && dragged !== i) move(dragged, i);
        dragged = null;
      });
      item.addEventListener('dragend', () => { dragged = null; });
      agentList.append(item);
    });
    if (order.length === 0) agentList.append(el('li', 'Nobody yet: sessions wait until an agent is added.'));
    const candidates = [...users.values()].filter((u) => !order.includes(u.id) && !u.disabled && !u.dismissed);
    adder.replaceChildren(...candidates.map((u) => {
      const option = el('option', `${u.name} (${u.role})`);
      option.value = u.id;
      return option;
    }));
    adder.disabled = !ctx.editable || candidates.length === 0;
  }
  draw();

  const minutes = (secs) => String(Math.round(secs / 60));
  const forward = input({ type: 'number', name: 'forward_interval_secs', min: 1, max: 720, step: 1, inputmode: 'numeric' });
  forward.value = minutes(queue.forward_interval_secs);
  const unanswered = input({ type: 'number', name: 'unanswered_interval_secs', min: 1, max: 720, step: 1, inputmode: 'numeric' });
  unanswered.value = minutes(queue.unanswered_interval_secs);
  const options = queue.options || {};
  const limit = input({ type: 'number', name: 'options.session_limit', min: 1, step: 1 });
  limit.value = options.session_limit == null ? '' : String(options.session_limit);
  const exclusion = select(EXCLUSIONS, options.limit_exclusion || 'closed_only');
  exclusion.name = 'options.limit_exclusion';

  const form = tabForm(panel, ctx, (box) => {
    const addButton = button('Add to the queue', 'Add to the queue', () => {
      if (!adder.value) return;
      order.push(Number(adder.value));
      draw();
      live.textContent = `${nameOf(order[order.length - 1])} added at the end of the queue.`;
    }, false);
    const adding = el('div', null, 'actions');
    adding.append(field('Agent to add', adder, { name: 'agents' }), addButton);
    box.append(heading('Agents', 3), agentList, live);
    if (ctx.editable) box.append(adding);
    box.append(
      radios('Distribution', 'mode', MODES, queue.mode),
      field('Forward interval (minutes)', forward, { hint: 'Strict order: how long an agent has to accept before the next one is offered the session (R5). 1 to 720 minutes.' }),
      field('Unanswered interval (minutes)', unanswered, { hint: 'How long a taken session may wait for the agent\'s first reply before it goes back to the queue (R6). 1 to 720 minutes.' }),
      heading('Options', 3),
      checkbox('Don\'t route to agents who are not clocked in or are on a break', 'options.require_clocked_in', options.require_clocked_in, 'R7'),
      checkbox('Route only to agents who are online', 'options.require_online', options.require_online, 'R8'),
      checkbox('Always watch availability', 'options.watch_availability', options.watch_availability, 'R9: a customer message in an offline agent\'s session puts it back in the queue.'),
      field('Sessions per agent at most', limit, { hint: 'R10: empty means no limit.' }),
      field('Which sessions the limit leaves out', exclusion),
    );
  }, async () => {
    const toSecs = (box) => (box.value.trim() === '' ? null : Math.round(Number(box.value) * 60));
    const checked = (name) => form.querySelector(`input[name="${name}"]`).checked;
    const body = {
      mode: radioValue(form, 'mode'),
      forward_interval_secs: toSecs(forward),
      unanswered_interval_secs: toSecs(unanswered),
      agents: order,
      options: {
        ...options,
        require_clocked_in: checked('options.require_clocked_in'),
        require_online: checked('options.require_online'),
        watch_availability: checked('options.watch_availability'),
        session_limit: limit.value.trim() === '' ? null : Number(limit.value),
        limit_exclusion: exclusion.value,
      },
    };
    const saved = await api('PUT', `/channels/${id}/queue`, body);
    order = [...saved.agents];
    Object.assign(options, saved.options);
    draw();
  });
  return undefined;
}
