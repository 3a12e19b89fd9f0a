// Channel tab · Working hours (W1, W2): the channel's time zone, opening
// ranges per weekday, holidays; saved as `working_hours` in the channel's
// config, with the reply outside those hours as `off_hours_text`. "Open now / opens at" comes from the server, computed by the code
// the engine's auto-actions use, so the page and the engine agree.

import { api } from '../../api.js';
import { el, field, input, showError, clearErrors, say } from '../form.js';
import { patchConfig, readOnly, buttons, button } from './config.js';

const DAYS = [
  ['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'],
  ['fri', 'Friday'], ['sat', 'Saturday'], ['sun', 'Sunday'],
];

let zoneListCount = 0;

/** One opening range: "opens" and "closes" as HH:MM text, and Remove. */
function rangeRow(dayName, text = '') {
  const [from = '', to = ''] = text.split('-');
  const row = el('div', null, 'range');
  const opens = input({ type: 'text', value: from, size: 5, placeholder: '09:00', inputmode: 'numeric', class: 'opens' });
  const closes = input({ type: 'text', value: to, size: 5, placeholder: '17:00', inputmode: 'numeric', class: 'closes' });
  const remove = button('Remove');
  row.append(field('Opens', opens), field('Closes', closes), remove);
  const renumber = () => {
    const list = row.parentElement;
    if (!list) return;
    [...list.children].forEach((r, i) => {
      r.querySelector('.opens').setAttribute('aria-label', `${dayName} range ${i + 1} opens`);
      r.querySelector('.closes').setAttribute('aria-label', `${dayName} range ${i + 1} closes`);
      r.querySelector('button').setAttribute('aria-label', `Remove ${dayName} range ${i + 1}`);
    });
  };
  remove.addEventListener('click', () => {
    const list = row.parentElement;
    row.remove();
    if (list) list.dispatchEvent(new Event('renumber'));
  });
  row.addEventListener('renumber', renumber);
  return row;
}

function dayBox(key, name, ranges) {
  const box = el('fieldset', null, 'day');
  box.append(el('legend', name));
  const list = el('div', null, 'ranges');
  list.dataset.day = key;
  const renumber = () => {
    for (const r of list.children) r.dispatchEvent(new Event('renumber'));
  };
  list.addEventListener('renumber', renumber);
  const add = button(`Add a range on ${name}`);
  add.addEventListener('click', () => {
    list.append(rangeRow(name));
    renumber();
    list.lastElementChild.querySelector('.opens').focus();
  });
  for (const text of ranges) list.append(rangeRow(name, text));
  box.append(list, add);
  renumber();
  return box;
}

function holidayRow(date = '') {
  const row = el('div', null, 'holiday');
  const day = input({ type: 'date', value: date });
  const remove = button('Remove');
  row.append(field('Holiday', day), remove);
  remove.addEventListener('click', () => row.remove());
  return row;
}

/** The working_hours object the form describes (fields named for errors). */
function collect(form, zone, days, holidays) {
  const out = { time_zone: zone.value.trim(), days: {}, holidays: [] };
  for (const list of days.querySelectorAll('.ranges')) {
    const key = list.dataset.day;
    const kept = [];
    for (const row of list.children) {
      const opens = row.querySelector('.opens');
      const closes = row.querySelector('.closes');
      if (!opens.value.trim() && !closes.value.trim()) continue;
      opens.dataset.field = `working_hours.days.${key}[${kept.length}]`;
      kept.push(`${opens.value.trim()}-${closes.value.trim()}`);
    }
    if (kept.length) out.days[key] = kept;
  }
  for (const row of holidays.children) {
    const date = row.querySelector('input');
    if (!date.value) continue;
    date.dataset.field = `working_hours.holidays[${out.holidays.length}]`;
    out.holidays.push(date.value);
  }
  return out;
}

async function showPreview(box, id) {
  try {
    const p = await api('GET', `/channels/${encodeURIComponent(id)}/hours/preview`);
    let text;
    if (p.always_open) text = 'No working hours: the channel is always open.';
    else if (p.open) text = `Open now (${p.now_local}, ${p.time_zone}).`;
    else if (p.next_open_local) text = `Closed now (${p.now_local}, ${p.time_zone}); opens ${p.next_open_local}.`;
    else text = `Closed now (${p.now_local}, ${p.time_zone}); not open within a year.`;
    box.textContent = text;
  } catch (err) {
    box.textContent = `The preview is not available: ${err.message}`;
  }
}

export async function render(panel, ctx) {
  const { channel, editable } = ctx;
  const config = (channel.config && typeof channel.config === 'object') ? channel.config : {};
  const hours = config.working_hours || null;
  const zones = await api('GET', '/time-zones');

  const form = el('form', null, 'settings-form hours-form');
  form.noValidate = true;

  const enabled = input({ type: 'checkbox', checked: Boolean(hours) });
  const enabledLabel = field('Keep working hours (off: always open)', enabled);
  enabledLabel.className = 'check';

  const listId = `time-zones-${++zoneListCount}`;
  const datalist = el('datalist');
  datalist.id = listId;
  for (const name of zones) {
    const option = document.createElement('option');
    option.value = name;
    datalist.append(option);
  }
  const zone = input({ type: 'text', list: listId, value: hours ? hours.time_zone : '', autocomplete: 'off', placeholder: 'Europe/Berlin' });
  const zoneField = field('Time zone', zone, {
    name: 'working_hours.time_zone',
    hint: 'Type to search the IANA names, e.g. Europe/Berlin; hours are wall-clock times there, across daylight saving.',
  });

  const days = el('div', null, 'days');
  for (const [key, name] of DAYS) days.append(dayBox(key, name, (hours && hours.days && hours.days[key]) || []));

  const holidayBox = el('fieldset', null, 'holidays');
  holidayBox.append(el('legend', 'Holidays (closed all day, in the channel\'s time zone)'));
  const holidays = el('div');
  for (const date of (hours && hours.holidays) || []) holidays.append(holidayRow(date));
  const addHoliday = button('Add a holiday');
  addHoliday.addEventListener('click', () => {
    holidays.append(holidayRow());
    holidays.lastElementChild.querySelector('input').focus();
  });
  holidayBox.append(holidays, addHoliday);

  const offText = document.createElement('textarea');
  offText.rows = 3;
  offText.value = config.off_hours_text || '';
  const offField = field('Reply outside working hours', offText, {
    name: 'config.off_hours_text',
    hint: 'The "off_hours" auto-action (W2) sends it once per visit; {opens} stands for the next opening, e.g. "Monday 12 January, 09:00". Leave it empty for the built-in text in the channel\'s language.',
  });
  const offHours = el('p', null, 'hint');
  offHours.append('The script that sends it is "off_hours" on the ');
  const link = el('a', 'Auto-actions');
  link.href = `#channel/${channel.id}/scripts`;
  offHours.append(link, ' tab.');

  const save = button('Save working hours', 'submit');
  form.append(enabledLabel, zoneField, days, holidayBox, offField, offHours, buttons(save));

  const preview = el('p', null, 'preview');
  preview.id = 'hours-preview';
  preview.setAttribute('role', 'status');
  const previewBox = el('section', null, 'preview-box');
  previewBox.setAttribute('aria-label', 'Open now?');
  previewBox.append(el('h3', 'Open now?'), preview);

  panel.append(form, previewBox);
  const sync = () => {
    for (const part of [zoneField, days, holidayBox, offField, offHours]) part.hidden = !enabled.checked;
  };
  enabled.addEventListener('change', sync);
  sync();
  readOnly(form, editable);
  await showPreview(preview, channel.id);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const value = enabled.checked ? collect(form, zone, days, holidays) : null;
    try {
      const reply = offText.value.trim();
      await patchConfig(channel.id, (c) => {
        if (value) c.working_hours = value;
        else delete c.working_hours;
        if (value && reply) c.off_hours_text = reply;
        else delete c.off_hours_text;
      });
      say('Working hours saved.', true);
      await showPreview(preview, channel.id);
    } catch (err) {
      // The server names the field after `config.working_hours: `.
      const message = (err.message || '').replace(/^config\.working_hours: (?=working_hours\.)/, '');
      showError(form, Object.assign(new Error(message), { status: err.status, code: err.code }));
    }
  });
}
