// Canned responses (A6): typed as `/shortcut` then Tab, or picked from a list.

import { api } from './api.js';

const SHORTCUT_BEFORE_CURSOR = /(^|\s)(\/[a-z0-9_-]{1,32})$/;

export class Canned {
  constructor(box, hint, picker) {
    this.box = box;
    this.hint = hint;
    this.picker = picker;
    this.byShortcut = new Map();
    this.channel = null;
    box.addEventListener('input', () => this.update());
    picker.addEventListener('change', () => {
      const entry = this.byShortcut.get(picker.value);
      picker.value = '';
      if (entry) this.insert(entry.text, this.box.selectionStart, this.box.selectionEnd);
    });
  }

  /** Loads the channel's lists (A6) into the picker. */
  async load(channelId) {
    if (this.channel === channelId) return;
    this.channel = channelId;
    this.byShortcut = new Map();
    const { lists } = await api('GET', `/channels/${channelId}/canned`);
    const first = document.createElement('option');
    first.value = '';
    first.textContent = lists.length ? 'Canned responses…' : 'No canned responses';
    const groups = [first];
    for (const list of lists) {
      const group = document.createElement('optgroup');
      group.label = list.name;
      for (const r of list.responses) {
        // The first list that claims a shortcut wins, as in the admin's order.
        if (!this.byShortcut.has(r.shortcut)) this.byShortcut.set(r.shortcut, r);
        const option = document.createElement('option');
        option.value = r.shortcut;
        option.textContent = `${r.shortcut} — ${r.name}`;
        group.append(option);
      }
      groups.push(group);
    }
    this.picker.replaceChildren(...groups);
    this.picker.disabled = lists.length === 0;
    this.update();
  }

  /** The shortcut just before the cursor, if it names a response. */
  current() {
    const cursor = this.box.selectionStart;
    if (cursor !== this.box.selectionEnd) return null;
    const m = SHORTCUT_BEFORE_CURSOR.exec(this.box.value.slice(0, cursor));
    if (!m) return null;
    const typed = m[2];
    return { typed, start: cursor - typed.length, end: cursor };
  }

  /** Shows which responses the typed shortcut could become. */
  update() {
    const at = this.current();
    if (!at) {
      this.hint.textContent = '';
      return;
    }
    const matches = [...this.byShortcut.keys()].filter((s) => s.startsWith(at.typed));
    this.hint.textContent = matches.length
      ? `Tab inserts ${this.byShortcut.has(at.typed) ? at.typed : matches[0]}${matches.length > 1 ? ` (also ${matches.slice(1, 4).join(', ')})` : ''}`
      : '';
  }

  /** Replaces a typed shortcut with its text; false if there is none to expand. */
  expand() {
    const at = this.current();
    if (!at) return false;
    let entry = this.byShortcut.get(at.typed);
    if (!entry) {
      const matches = [...this.byShortcut.keys()].filter((s) => s.startsWith(at.typed));
      if (matches.length !== 1) return false;
      entry = this.byShortcut.get(matches[0]);
    }
    this.insert(entry.text, at.start, at.end);
    return true;
  }

  insert(text, start, end) {
    this.box.setRangeText(text, start, end, 'end');
    this.box.focus();
    this.update();
  }
}
