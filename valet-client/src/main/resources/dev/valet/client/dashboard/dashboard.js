// The Valet dashboard: polls /api/state (same origin, read-only) and draws it. No libraries, no CDN; data is
// written with textContent only, never as HTML.
'use strict';

const POLL_MS = Number(new URLSearchParams(location.search).get('interval')) || 1000;
const HISTORY = 120;
const history = { write: [], read: [], writeP99: [], readP99: [] };
let lastOk = 0;

function bytes(n) {
  if (n === null || n === undefined) { return '\u2013'; }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + ' ' + units[i];
}

// Rows are kept and updated in place, keyed by donor (or slab id), so that what a reader (or a test) holds on to
// stays on the page between polls.
function cell(row, cls, text, raw) {
  let td = row.querySelector('td.' + cls);
  if (!td) {
    td = document.createElement('td');
    td.className = cls;
    row.appendChild(td);
  }
  if (td.textContent !== text) { td.textContent = text; }
  if (raw !== undefined && raw !== null) { td.dataset.bytes = String(raw); } else { delete td.dataset.bytes; }
  return td;
}

function keyedRow(body, attr, key) {
  for (const row of body.rows) {
    if (row.dataset[attr] === key) { return row; }
  }
  const row = document.createElement('tr');
  row.dataset[attr] = key;
  return row;
}

function placeRows(body, rows) {
  rows.forEach((row, i) => {
    if (body.rows[i] !== row) { body.insertBefore(row, body.rows[i] || null); }
  });
  while (body.rows.length > rows.length) { body.deleteRow(rows.length); }
}

function memoryBar(row, d) {
  let td = row.querySelector('td.memory');
  if (!td) {
    td = document.createElement('td');
    td.className = 'memory';
    const bar = document.createElement('div');
    bar.className = 'bar';
    for (const cls of ['bar-mine', 'bar-others']) {
      const s = document.createElement('span');
      s.className = cls;
      bar.appendChild(s);
    }
    td.appendChild(bar);
    row.appendChild(td);
  }
  const limit = Math.max(d.limitBytes, d.lentBytes, 1);
  const mine = d.mineBytes || 0;
  const others = Math.max(0, d.lentBytes - mine);
  td.querySelector('span.bar-mine').style.width = (100 * mine / limit).toFixed(1) + '%';
  td.querySelector('span.bar-others').style.width = (100 * others / limit).toFixed(1) + '%';
}

// Each client identity's share of the donor (cluster view): one list item per identity, keyed by it, carrying the
// raw bytes; the list is rebuilt only when what it shows changes.
function sharesCell(row, d, view) {
  let td = row.querySelector('td.shares');
  if (!td) {
    td = document.createElement('td');
    td.className = 'shares';
    row.appendChild(td);
  }
  const key = JSON.stringify(d.shares);
  if (td.dataset.key === key) { return; }
  td.dataset.key = key;
  td.replaceChildren();
  if (d.shares === null) {
    td.textContent = '\u2013';
    td.title = view === 'cluster' && d.state === 'live' ? 'not reported: a donor older than CLIENT_SHARES' : '';
    return;
  }
  const list = document.createElement('ul');
  for (const s of d.shares.shares) {
    const li = document.createElement('li');
    li.className = 'share';
    li.dataset.identity = s.identity;
    li.dataset.bytes = String(s.bytes);
    li.title = s.slabs + (s.slabs === 1 ? ' slab' : ' slabs');
    const who = document.createElement('span');
    who.className = 'identity';
    who.textContent = s.identity;
    const amount = document.createElement('span');
    amount.className = 'amount';
    amount.textContent = bytes(s.bytes);
    li.append(who, amount);
    list.appendChild(li);
  }
  const more = d.shares.identityCount - d.shares.shares.length;
  if (more > 0) {
    const li = document.createElement('li');
    li.className = 'more';
    li.textContent = '+' + more + ' more';
    list.appendChild(li);
  }
  if (d.shares.shares.length === 0) { td.textContent = 'none'; } else { td.appendChild(list); }
}

function drawDonors(donors, view) {
  const body = document.querySelector('#donors tbody');
  const rows = [];
  for (const d of donors) {
    const row = keyedRow(body, 'donor', d.donor);
    row.className = 'donor state-' + d.state;
    row.dataset.state = d.state;
    cell(row, 'name', d.donor);
    const st = cell(row, 'state', d.state);
    st.title = d.reason || '';
    memoryBar(row, d);
    cell(row, 'limit', bytes(d.limitBytes), d.limitBytes);
    cell(row, 'lent', bytes(d.lentBytes), d.lentBytes);
    cell(row, 'mine', d.mineBytes === null ? '\u2013' : bytes(d.mineBytes), d.mineBytes);
    cell(row, 'offered', bytes(d.offeredBytes), d.offeredBytes);
    cell(row, 'free', bytes(d.hostFreeBytes), d.hostFreeBytes);
    cell(row, 'slabs', String(d.slabs));
    cell(row, 'clients', String(d.clients));
    sharesCell(row, d, view);
    cell(row, 'rtt', d.state === 'live' || d.state === 'suspected' ? (d.rttMicros / 1000).toFixed(2) + ' ms'
      : '\u2013');
    rows.push(row);
  }
  placeRows(body, rows);
}

function drawSlabs(slabs) {
  const section = document.getElementById('slabs-section');
  if (slabs === null) { section.hidden = true; return; }
  section.hidden = false;
  const body = document.querySelector('#slabs tbody');
  const rows = [];
  for (const s of slabs) {
    const row = keyedRow(body, 'slab', String(s.id));
    row.className = 'slab' + (s.degraded ? ' degraded' : '');
    cell(row, 'id', String(s.id));
    cell(row, 'copies', s.copies.join(', ') || 'none');
    cell(row, 'suspended', s.suspended.join(', ') || '\u2013');
    cell(row, 'health', s.degraded ? 'degraded' : 'ok');
    rows.push(row);
  }
  placeRows(body, rows);
}

function drawEvents(events) {
  const list = document.getElementById('events');
  list.replaceChildren();
  for (const e of events) {
    const li = document.createElement('li');
    const t = document.createElement('span');
    t.className = 'time';
    t.textContent = e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    li.appendChild(t);
    li.appendChild(document.createTextNode(e.text));
    list.appendChild(li);
  }
}

function push(series, v) {
  series.push(v);
  if (series.length > HISTORY) { series.shift(); }
}

function chart(id, lines) {
  const svg = document.getElementById(id);
  const ns = 'http://www.w3.org/2000/svg';
  svg.replaceChildren();
  let max = 1;
  for (const [, data] of lines) { for (const v of data) { max = Math.max(max, v); } }
  for (const [cls, data] of lines) {
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('class', cls);
    const pts = data.map((v, i) => (i * 600 / (HISTORY - 1)).toFixed(1) + ',' + (150 - 140 * v / max).toFixed(1));
    line.setAttribute('points', pts.join(' '));
    svg.appendChild(line);
  }
  const label = document.createElementNS(ns, 'text');
  label.setAttribute('x', '4');
  label.setAttribute('y', '12');
  label.textContent = 'max ' + (max < 10 ? max.toFixed(2) : max.toFixed(0));
  svg.appendChild(label);
}

function relabel(view) {
  if (view !== 'cluster') { return; }
  // The cluster view knows the donors' page rate and heartbeat round trips, not one client's reads and writes.
  document.getElementById('throughput-title').textContent = 'Pages/s at the donors (all clients)';
  document.getElementById('latency-title').textContent = 'Slowest heartbeat round trip (ms)';
  document.getElementById('throughput-legend').hidden = true;
  document.getElementById('latency-legend').hidden = true;
  document.getElementById('write-rate').previousElementSibling.textContent = 'pages/s at donors';
  document.getElementById('read-rate').parentElement.hidden = true;
}

function draw(s) {
  relabel(s.view);
  document.getElementById('title').textContent = s.title;
  document.title = 'Valet: ' + s.title;
  const live = s.donors.filter(d => d.state === 'live').length;
  document.getElementById('donors-live').textContent = live + ' / ' + s.donors.length;
  document.getElementById('slabs-mapped').textContent = s.slabs === null ? '\u2013' : String(s.slabs.length);
  document.getElementById('slabs-degraded').textContent = s.slabs === null ? '\u2013'
    : String(s.slabs.filter(x => x.degraded).length);
  document.getElementById('write-rate').textContent = s.io.writePagesPerSecond.toFixed(0);
  document.getElementById('read-rate').textContent = s.io.readPagesPerSecond.toFixed(0);
  drawDonors(s.donors, s.view);
  drawSlabs(s.slabs);
  drawEvents(s.events);
  push(history.write, s.io.writePagesPerSecond);
  push(history.read, s.io.readPagesPerSecond);
  push(history.writeP99, Math.max(0, s.io.writeP99Millis));
  push(history.readP99, Math.max(0, s.io.readP99Millis));
  chart('chart-throughput', [['write', history.write], ['read', history.read]]);
  chart('chart-latency', [['write', history.writeP99], ['read', history.readP99]]);
}

async function poll() {
  const updated = document.getElementById('updated');
  try {
    const r = await fetch('api/state', { cache: 'no-store' });
    if (!r.ok) { throw new Error('HTTP ' + r.status); }
    const s = await r.json();
    draw(s);
    lastOk = Date.now();
    updated.className = 'muted';
    updated.textContent = 'updated ' + s.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  } catch (e) {
    updated.className = 'stale';
    updated.textContent = 'cannot reach the daemon (' + e.message + ')' + (lastOk ? '; showing data from '
      + new Date(lastOk).toISOString() : '');
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

document.addEventListener('DOMContentLoaded', poll);
