// Statistics page of the console (O6): a channel and a date range in,
// totals, a per-agent table and inline SVG bar charts out, plus the CSV.
// Plain JS, no framework. Everything from the server is rendered with
// textContent (never innerHTML), so names cannot inject markup.
'use strict';

(function () {
  const API = '/api/v1';
  const SVG = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);

  function say(text) {
    $('stats-status').textContent = text;
  }

  async function api(path) {
    // The console's session cookie signs this page in too.
    const res = await fetch(API + path);
    if (!res.ok) {
      let message = res.status + ' ' + res.statusText;
      try {
        const body = await res.json();
        if (body && body.error && body.error.message) message = body.error.message;
      } catch (_) { /* not JSON: keep the status line */ }
      throw new Error(message);
    }
    return res;
  }

  // The date inputs are local days; the range is [from 00:00, day after to 00:00).
  function range() {
    const from = $('from').value;
    const to = $('to').value;
    if (!from || !to) throw new Error('Pick both dates.');
    const start = new Date(from + 'T00:00:00');
    const end = new Date(to + 'T00:00:00');
    end.setDate(end.getDate() + 1);
    if (start >= end) throw new Error('"From" must not be after "To".');
    return 'channel=' + encodeURIComponent($('channel').value) +
      '&from=' + encodeURIComponent(start.toISOString()) +
      '&to=' + encodeURIComponent(end.toISOString());
  }

  function day(date) {
    const pad = (n) => String(n).padStart(2, '0');
    return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate());
  }

  function duration(ms) {
    if (ms === null || ms === undefined) return '–';
    const s = ms / 1000;
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
    if (s < 3600) return (s / 60).toFixed(1) + ' min';
    if (s < 86400) return (s / 3600).toFixed(1) + ' h';
    return (s / 86400).toFixed(1) + ' d';
  }

  function rating(r) {
    if (!r || !r.count) return '–';
    return r.average.toFixed(2) + ' (' + r.count + ')';
  }

  function agentLabel(row) {
    if (row.agent_id === null) return 'No agent';
    return row.agent_name || ('user ' + row.agent_id);
  }

  function renderTotals(t) {
    const dl = $('totals');
    dl.replaceChildren();
    const items = [
      ['Sessions', String(t.sessions)],
      ['Unanswered', String(t.unanswered)],
      ['First response (median / p90)', duration(t.first_response.median_ms) + ' / ' + duration(t.first_response.p90_ms)],
      ['Resolution (median / p90)', duration(t.resolution.median_ms) + ' / ' + duration(t.resolution.p90_ms)],
      ['Customer rating', rating(t.customer_rating)],
      ['Supervisor rating', rating(t.supervisor_rating)],
    ];
    for (const [name, value] of items) {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.textContent = value;
      // A <div> around each pair is allowed in a <dl> and makes it one tile.
      const tile = document.createElement('div');
      tile.append(dt, dd);
      dl.append(tile);
    }
  }

  function renderTable(rows) {
    const body = $('agents').tBodies[0];
    body.replaceChildren();
    for (const r of rows) {
      const tr = document.createElement('tr');
      const cells = [
        agentLabel(r), String(r.sessions), String(r.unanswered),
        duration(r.first_response.median_ms), duration(r.first_response.p90_ms),
        duration(r.resolution.median_ms), duration(r.resolution.p90_ms),
        rating(r.customer_rating), rating(r.supervisor_rating),
      ];
      cells.forEach((text, i) => {
        const td = document.createElement(i === 0 ? 'th' : 'td');
        if (i === 0) td.scope = 'row';
        td.textContent = text;
        tr.append(td);
      });
      body.append(tr);
    }
  }

  function el(name, attrs, text) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Horizontal bars: one row per agent, one bar per series.
  // series: [{name, color, value: row => number|null, label: number => string}]
  function barChart(container, rows, series) {
    const rowHeight = 14 * series.length + 10;
    const left = 140, right = 90, width = 640;
    const height = rows.length * rowHeight + 30;
    const max = Math.max(1, ...rows.flatMap((r) => series.map((s) => s.value(r) || 0)));
    const scale = (v) => (v / max) * (width - left - right);
    const svg = el('svg', { viewBox: '0 0 ' + width + ' ' + height, width: '100%', role: 'img' });
    svg.append(el('title', {}, series.map((s) => s.name).join(', ') + ' per agent'));
    rows.forEach((r, i) => {
      const y = i * rowHeight + 5;
      svg.append(el('text', { x: left - 6, y: y + rowHeight / 2, 'text-anchor': 'end', 'font-size': 12, 'dominant-baseline': 'middle' }, agentLabel(r)));
      series.forEach((s, j) => {
        const v = s.value(r);
        const barY = y + j * 14;
        if (v === null || v === undefined) {
          svg.append(el('text', { x: left + 4, y: barY + 10, 'font-size': 11, fill: '#666' }, s.name + ': –'));
          return;
        }
        const bar = el('rect', { x: left, y: barY, width: Math.max(1, scale(v)), height: 12, fill: s.color });
        bar.append(el('title', {}, s.name + ': ' + s.label(v)));
        svg.append(bar);
        svg.append(el('text', { x: left + scale(v) + 4, y: barY + 10, 'font-size': 11 }, s.label(v)));
      });
    });
    // Legend.
    series.forEach((s, j) => {
      const x = left + j * 130;
      svg.append(el('rect', { x, y: height - 18, width: 12, height: 12, fill: s.color }));
      svg.append(el('text', { x: x + 16, y: height - 8, 'font-size': 12 }, s.name));
    });
    container.replaceChildren(svg);
  }

  function renderCharts(rows) {
    barChart($('chart-sessions'), rows, [
      { name: 'Sessions', color: '#3b6ea5', value: (r) => r.sessions, label: String },
      { name: 'Unanswered', color: '#c0504d', value: (r) => r.unanswered, label: String },
    ]);
    barChart($('chart-response'), rows, [
      { name: 'Median', color: '#3b6ea5', value: (r) => r.first_response.median_ms, label: duration },
      { name: 'p90', color: '#9bbbd9', value: (r) => r.first_response.p90_ms, label: duration },
    ]);
    barChart($('chart-resolution'), rows, [
      { name: 'Median', color: '#4f8a3c', value: (r) => r.resolution.median_ms, label: duration },
      { name: 'p90', color: '#a9cf9b', value: (r) => r.resolution.p90_ms, label: duration },
    ]);
  }

  async function show(event) {
    if (event) event.preventDefault();
    try {
      const query = range();
      say('Loading…');
      const report = await (await api('/stats?' + query)).json();
      $('totals-section').hidden = !report.totals;
      if (report.totals) renderTotals(report.totals);
      $('agents-section').hidden = false;
      renderTable(report.agents);
      renderCharts(report.agents);
      say('Sessions created in ' + report.channel_name + ' from ' + $('from').value + ' to ' + $('to').value + '.');
    } catch (err) {
      say(err.message);
    }
  }

  // The CSV is fetched and saved from a blob, so an error can be shown here
  // instead of replacing the page.
  async function downloadCsv() {
    try {
      const res = await api('/stats.csv?' + range());
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = 'stats-channel-' + $('channel').value + '-' + $('from').value + '-' + $('to').value + '.csv';
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      say(err.message);
    }
  }

  async function start() {
    const today = new Date();
    const weekAgo = new Date(today);
    weekAgo.setDate(today.getDate() - 6);
    $('from').value = day(weekAgo);
    $('to').value = day(today);
    $('stats-form').addEventListener('submit', show);
    $('csv').addEventListener('click', downloadCsv);
    try {
      const channels = await (await api('/channels')).json();
      const select = $('channel');
      for (const c of channels) {
        const option = document.createElement('option');
        option.value = String(c.id);
        option.textContent = c.name;
        select.append(option);
      }
      if (channels.length === 0) {
        say('You see no channels yet.');
        return;
      }
      await show();
    } catch (err) {
      say(err.message);
    }
  }

  start();
})();
