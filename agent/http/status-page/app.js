/* global document, window, fetch, localStorage, history, location */
// The status page: plain DOM and inline SVG, no library and no CDN, so it works on a network with no
// internet. Data comes from /api/status and /api/snapshot with the API key, which the user gives once
// (or as #key=... in the URL: a fragment is never sent to the server, so the key stays out of logs).
'use strict';

const REFRESH_MS = 10_000;
const SVG = 'http://www.w3.org/2000/svg';
const CHART = { width: 640, height: 260, left: 44, right: 12, top: 12, bottom: 26 };
/** A gap longer than this between two readings breaks the line instead of drawing across it. */
const GAP_MS = 15 * 60 * 1000;
const KEY_STORAGE = 'edge-agent-api-key';

const $ = (id) => document.getElementById(id);
let snapshotUrl = null;
let frameUrl = null;
let snapshotEvent = null;
let timer = null;

function takeKeyFromFragment() {
  const match = /(?:^#|&)key=([^&]+)/.exec(location.hash);
  if (!match) return;
  localStorage.setItem(KEY_STORAGE, decodeURIComponent(match[1]));
  history.replaceState(null, '', location.pathname + location.search);
}

function apiFetch(path) {
  const key = localStorage.getItem(KEY_STORAGE);
  return fetch(path, { headers: key ? { 'x-api-key': key } : {}, cache: 'no-store' });
}

const SVG_TAGS = new Set(['svg', 'path', 'circle', 'line', 'text', 'title', 'polygon', 'g']);

/** An element with attributes and text; text always goes in as text, never as HTML. */
function el(tag, attrs = {}, text) {
  const node = SVG_TAGS.has(tag) ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const timeOf = (ts) => new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const dateTimeOf = (ts) => new Date(ts).toLocaleString([], { dateStyle: 'short', timeStyle: 'medium' });

function drawChart(temperature, now) {
  const { readings, forecasts } = temperature;
  const figure = $('chart');
  figure.replaceChildren();
  const svg = el('svg', { viewBox: `0 0 ${CHART.width} ${CHART.height}`, role: 'img', 'data-readings': readings.length, 'data-forecasts': forecasts.length });
  figure.append(svg);
  const values = readings.map((r) => r[1]).concat(forecasts.map((f) => f.celsius));
  if (values.length === 0) {
    svg.append(el('text', { x: CHART.width / 2, y: CHART.height / 2, 'text-anchor': 'middle' }, 'no readings in the last 24 h'));
    return;
  }
  const xMin = now - 24 * 3600 * 1000;
  const xMax = Math.max(now, ...forecasts.map((f) => f.target_ts));
  let yMin = Math.min(...values) - 0.5;
  let yMax = Math.max(...values) + 0.5;
  if (yMax - yMin < 2) [yMin, yMax] = [yMin - 1, yMax + 1];
  const plotW = CHART.width - CHART.left - CHART.right;
  const plotH = CHART.height - CHART.top - CHART.bottom;
  const x = (ts) => CHART.left + ((ts - xMin) / (xMax - xMin)) * plotW;
  const y = (c) => CHART.top + (1 - (c - yMin) / (yMax - yMin)) * plotH;

  for (let i = 0; i <= 4; i += 1) {
    const c = yMin + ((yMax - yMin) * i) / 4;
    svg.append(el('line', { class: 'axis', x1: CHART.left, x2: CHART.width - CHART.right, y1: y(c), y2: y(c) }));
    svg.append(el('text', { x: CHART.left - 6, y: y(c) + 4, 'text-anchor': 'end' }, `${c.toFixed(1)}°`));
  }
  for (let ts = xMin; ts <= xMax; ts += 6 * 3600 * 1000) {
    svg.append(el('text', { x: x(ts), y: CHART.height - 8, 'text-anchor': 'middle' }, timeOf(ts)));
  }

  let d = '';
  let previous = null;
  for (const [ts, celsius] of readings) {
    if (ts < xMin) continue;
    d += `${previous === null || ts - previous > GAP_MS ? 'M' : 'L'}${x(ts).toFixed(1)},${y(celsius).toFixed(1)} `;
    previous = ts;
  }
  if (d) svg.append(el('path', { class: 'reading', d }));
  for (const f of forecasts) {
    // Forecast vs what happened: a line from the forecast to the reading at its target time.
    if (f.actual !== null) svg.append(el('line', { class: 'miss', x1: x(f.target_ts), x2: x(f.target_ts), y1: y(f.celsius), y2: y(f.actual) }));
    const byPersistence = f.model.name === 'persistence';
    const dot = el('circle', { class: byPersistence ? 'forecast persistence' : 'forecast', cx: x(f.target_ts), cy: y(f.celsius), r: 3 });
    const outcome = f.actual === null ? '' : `; it was ${f.actual} °C (${f.celsius >= f.actual ? '+' : ''}${(f.celsius - f.actual).toFixed(2)})`;
    dot.append(el('title', {}, `${f.celsius} °C forecast for ${timeOf(f.target_ts)} by ${f.model.name} (made ${timeOf(f.made_at)})${outcome}`));
    svg.append(dot);
  }
}

const celsius = (value) => (value === null ? '-' : `${value.toFixed(3)} °C`);

function drawScore(score) {
  if (!score) {
    $('score-model').textContent = 'no forecast model loaded';
    $('score').replaceChildren();
    return;
  }
  $('score-model').textContent = `${score.model.name} ${score.model.version}`;
  const rows = [
    ['24 h', score.last_24h],
    ['7 days', score.last_7d],
  ].map(([span, s]) =>
    row(
      el('td', {}, span),
      el('td', {}, celsius(s.mae_celsius)),
      el('td', {}, celsius(s.persistence_mae_celsius)),
      el('td', { class: s.skill !== null && s.skill < 0 ? 'error' : '' }, s.skill === null ? '-' : `${Math.round(s.skill * 100)}%`),
      el('td', {}, String(s.scored)),
    ),
  );
  $('score').replaceChildren(...rows);
}

function describeObjects(objects) {
  if (objects.length === 0) return '-';
  return objects.map((o) => `${o.class} ${Math.round(o.confidence * 100)}%`).join(', ');
}

function row(...cells) {
  const tr = el('tr');
  tr.append(...cells);
  return tr;
}

function drawEvents(intrusions) {
  const rows = intrusions.map((e) => row(el('td', {}, dateTimeOf(e.ts)), el('td', {}, e.event), el('td', {}, describeObjects(e.objects))));
  $('events').replaceChildren(...(rows.length > 0 ? rows : [row(el('td', { colspan: 3, class: 'muted' }, 'none'))]));
}

function drawHealth(health) {
  $('device').textContent = health.device;
  const overall = $('overall');
  overall.textContent = health.status;
  overall.className = `pill ${health.status}`;
  const models = Object.entries(health.models).map(([role, m]) => el('li', {}, `${role} model: ${m ? `${m.name} ${m.version}` : 'not loaded'}`));
  $('models').replaceChildren(...models);
  const rows = Object.entries(health.components).map(([name, c]) => {
    const state = el('td');
    state.append(el('span', { class: `state-${c.state}` }, c.state));
    return row(el('td', {}, name), state, el('td', {}, c.detail ?? ''));
  });
  $('components').replaceChildren(...rows);
}

async function drawSnapshot(snapshot) {
  const img = $('snapshot');
  if (!snapshot) return;
  $('snapshot-caption').textContent = `intrusion ${snapshot.event_id}, ${dateTimeOf(snapshot.ts)}`;
  if (snapshot.event_id === snapshotEvent) return;
  const response = await apiFetch('/api/snapshot');
  if (!response.ok) return;
  if (snapshotUrl) URL.revokeObjectURL(snapshotUrl);
  snapshotUrl = URL.createObjectURL(await response.blob());
  snapshotEvent = snapshot.event_id;
  img.src = snapshotUrl;
  img.hidden = false;
}

/** With several cameras, a choice of the camera whose scene is drawn. */
function drawCameraChoice(cameras, shown) {
  const select = $('scene-camera');
  select.hidden = cameras.length < 2;
  if (select.options.length !== cameras.length || cameras.some((name, i) => select.options[i].value !== name)) {
    select.replaceChildren(...cameras.map((name) => el('option', { value: name }, name)));
  }
  if (shown) select.value = shown;
}

/** A polygon of [x, y] fractions as SVG points on the overlay's 0..1 viewBox. */
const pointsOf = (polygon) => polygon.map(([x, y]) => `${x},${y}`).join(' ');

/** The camera's newest frame under the configured zones and masks, so a user can check where they fall. */
async function drawScene(scene) {
  const overlay = $('scene-overlay');
  if (!scene) {
    $('scene-caption').textContent = 'no camera configured';
    overlay.replaceChildren();
    return;
  }
  const shapes = [
    ...scene.motion_masks.map((m) => el('polygon', { class: 'motion-mask', points: pointsOf(m) })),
    ...scene.object_masks.map((m) => el('polygon', { class: 'object-mask', points: pointsOf(m) })),
  ];
  for (const zone of scene.zones) {
    const roles = [scene.required_zones.includes(zone.name) && 'required', scene.alarm_zones.includes(zone.name) && 'alarm'].filter(Boolean);
    const group = el('g');
    group.append(el('polygon', { class: `zone${scene.alarm_zones.includes(zone.name) ? ' alarm' : ''}`, points: pointsOf(zone.points) }));
    const [x, y] = zone.points[0];
    group.append(el('text', { x: Math.min(x + 0.01, 0.9), y: Math.max(y + 0.04, 0.04) }, roles.length ? `${zone.name} (${roles.join(', ')})` : zone.name));
    shapes.push(group);
  }
  overlay.replaceChildren(...shapes);
  const response = await apiFetch(`/api/frame?camera=${encodeURIComponent(scene.camera)}`);
  if (!response.ok) {
    $('scene-caption').textContent = response.status === 503 ? 'no camera frame yet' : `frame request failed: HTTP ${response.status}`;
    return;
  }
  if (frameUrl) URL.revokeObjectURL(frameUrl);
  frameUrl = URL.createObjectURL(await response.blob());
  const img = $('scene-frame');
  img.src = frameUrl;
  img.hidden = false;
  const ts = Date.parse(response.headers.get('x-frame-ts') ?? '');
  $('scene-caption').textContent = `${scene.zones.length} zone(s), ${scene.object_masks.length} object mask(s), ${scene.motion_masks.length} motion mask(s)${Number.isNaN(ts) ? '' : `; frame of ${dateTimeOf(ts)}`}`;
}

function askForKey(message) {
  $('content').hidden = true;
  $('key-form').hidden = false;
  $('key-error').textContent = message;
  $('overall').textContent = 'locked';
}

async function refresh() {
  let response;
  try {
    const camera = $('scene-camera').value;
    response = await apiFetch(camera ? `/api/status?camera=${encodeURIComponent(camera)}` : '/api/status');
  } catch (err) {
    $('updated').textContent = `agent unreachable (${err.message})`;
    return;
  }
  if (response.status === 403) return askForKey(localStorage.getItem(KEY_STORAGE) ? 'that key was refused' : '');
  if (!response.ok) {
    $('updated').textContent = `status request failed: HTTP ${response.status}`;
    return;
  }
  const status = await response.json();
  const now = Date.parse(status.health.time);
  $('key-form').hidden = true;
  $('content').hidden = false;
  drawHealth(status.health);
  drawChart(status.temperature, now);
  drawScore(status.forecast_score);
  drawEvents(status.intrusions);
  await drawSnapshot(status.snapshot);
  drawCameraChoice(status.cameras, status.scene?.camera);
  await drawScene(status.scene);
  $('updated').textContent = `updated ${timeOf(now)}`;
}

function schedule() {
  if (timer) window.clearTimeout(timer);
  timer = window.setTimeout(() => refresh().finally(schedule), REFRESH_MS);
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  localStorage.setItem(KEY_STORAGE, $('key-input').value);
  refresh().finally(schedule);
});

$('scene-camera').addEventListener('change', () => refresh().finally(schedule));

takeKeyFromFragment();
refresh().finally(schedule);
