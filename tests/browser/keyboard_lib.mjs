// Keyboard-only helpers for the settings walk (tests/browser/settings_keyboard.mjs):
// focus moves only with Tab and Shift+Tab; every stop is checked to show
// a visible focus ring; a page's whole tab order is walked to prove every
// control is reachable and focus is never trapped.

import { assert } from './console_lib.mjs';

/** What has focus now: its accessible name (roughly), tag and whether the ring shows. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return { body: true };
    const byIds = (ids) => ids.split(/\s+/).map((id) => document.getElementById(id)?.textContent || '').join(' ');
    const name = (el.getAttribute('aria-label')
      || (el.getAttribute('aria-labelledby') && byIds(el.getAttribute('aria-labelledby')))
      || (el.labels && el.labels.length ? [...el.labels].map((l) => l.textContent).join(' ') : '')
      || el.textContent || el.value || el.title || '').replace(/\s+/g, ' ').trim();
    const style = getComputedStyle(el);
    const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
    const rect = el.getBoundingClientRect();
    // Chromium's date and time fields end with their own calendar button,
    // inside the field: the field then does not match :focus and the
    // browser draws that button's focus itself.
    const picker = /^(date|datetime-local|time|month|week)$/.test(el.type) && !el.matches(':focus');
    if (!el.dataset.kbd) el.dataset.kbd = String(document.querySelectorAll('[data-kbd]').length + 1);
    return {
      body: false,
      // A radio group is one stop, whichever of its radios takes focus.
      mark: el.type === 'radio' ? `radio:${el.name}` : el.dataset.kbd,
      name,
      tag: el.tagName.toLowerCase(),
      type: el.type || '',
      visible: (ring || picker) && rect.width > 0 && rect.height > 0,
      style: `outline ${style.outlineStyle} ${style.outlineWidth}, shadow ${style.boxShadow}, ${Math.round(rect.width)}x${Math.round(rect.height)}`,
    };
  });
}

function describe(f) {
  return f.body ? '(nothing: the page body)' : `${f.tag}${f.type ? `[${f.type}]` : ''} "${f.name.slice(0, 60)}"`;
}

/** Where focus is, with how it is drawn: for failures. */
function drawn(f) {
  return `${describe(f)} (${f.style})`;
}

/**
 * Presses Tab (or Shift+Tab with `back`) until the focused control's name
 * matches `name` (a RegExp, or a string it must start with); every stop on
 * the way must show its focus. Fails when the control is not reached within
 * two passes through the page.
 */
export async function tabTo(page, name, { back = false, tag } = {}) {
  const want = typeof name === 'string' ? (n) => n.startsWith(name) : (n) => name.test(n);
  const seen = [];
  let outside = 0;
  for (let i = 0; i < 400; i += 1) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const f = await focused(page);
    if (f.body) {
      outside += 1;
      if (outside > 2) break;
      continue;
    }
    assert(f.visible, `focus shows on ${drawn(f)}`);
    seen.push(describe(f));
    if (want(f.name) && (!tag || f.tag === tag)) return f;
  }
  throw new Error(`"${name}" is not reachable with ${back ? 'Shift+Tab' : 'Tab'}; focus went: ${seen.slice(-40).join(' → ')}`);
}

/** Every control the tab order should reach: one stop per radio group. */
function tabbables(page) {
  return page.evaluate(() => {
    const selector = 'a[href], button, input, select, textarea, summary, [tabindex]';
    const groups = new Set();
    const list = [];
    for (const el of document.querySelectorAll(selector)) {
      if (el.disabled || el.tabIndex < 0 || el.closest('[hidden], [inert]')) continue;
      if (el.type === 'hidden') continue;
      if (el.getClientRects().length === 0 || getComputedStyle(el).visibility === 'hidden') continue;
      if (el.closest('details:not([open])') && el.tagName !== 'SUMMARY') continue;
      if (el.type === 'radio') {
        if (groups.has(el.name)) continue;
        groups.add(el.name);
      }
      if (!el.dataset.kbd) el.dataset.kbd = `t${list.length + 1}`;
      list.push({ mark: el.type === 'radio' ? `radio:${el.name}` : el.dataset.kbd, what: `${el.tagName.toLowerCase()} ${(el.getAttribute('aria-label') || el.textContent || el.name || '').trim().slice(0, 40)}` });
    }
    return list;
  });
}

/**
 * Walks the page's whole tab order: Tab until focus comes round to a control
 * it was on before, which closes the cycle. Every control must be in that
 * cycle with its focus showing (a trap would close a cycle that leaves
 * controls out), and Shift+Tab must go round the same cycle backwards.
 * Leaving the page for the browser's own controls counts as no stop.
 */
export async function wholeTabOrder(page, what) {
  const expected = await tabbables(page);
  const limit = 8 * expected.length + 20;
  const trail = [];
  const names = new Map();
  let cycle = null;
  for (let i = 0; i < limit && !cycle; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f.body) continue;
    assert(f.visible, `${what}: focus shows on ${drawn(f)}`);
    names.set(f.mark, describe(f));
    // Date and time fields take one Tab per part (day, month, ...): still the same stop.
    if (trail[trail.length - 1] === f.mark) continue;
    const before = trail.indexOf(f.mark);
    if (before >= 0) cycle = trail.slice(before);
    else trail.push(f.mark);
  }
  assert(cycle, `${what}: Tab never comes round (${trail.length} stops)`);
  const missed = expected.filter((e) => !cycle.includes(e.mark));
  assert(missed.length === 0, `${what}: Tab goes round ${cycle.map((m) => names.get(m)).join(' → ')} without reaching: ${missed.map((m) => m.what).join(', ')}`);
  // Focus is on cycle[0] again; Shift+Tab visits the cycle in reverse.
  const back = [];
  for (let i = 0; i < limit && back.length < cycle.length; i += 1) {
    await page.keyboard.press('Shift+Tab');
    const f = await focused(page);
    if (f.body || back[back.length - 1] === f.mark) continue;
    back.push(f.mark);
  }
  assert(JSON.stringify(back) === JSON.stringify([...cycle].reverse()),
    `${what}: Shift+Tab does not retrace Tab`);
  return cycle.length;
}

/** Types into the focused field, replacing its text. */
export async function replaceText(page, text) {
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  if (text) await page.keyboard.type(text);
}
