/**
 * The status page in a real browser (Debian's chromium through playwright-core) against a real server
 * over a real SQLite store: it renders offline, the chart has the readings and forecasts, the snapshot
 * loads with the key, and a screenshot is taken.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../agent/config/load.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { HttpServer } from '../../agent/http/server.js';
import { silentLogger } from '../../agent/lib/log.js';
import { AgentMetrics } from '../../agent/http/metrics.js';
import { SqliteStore } from '../../agent/store/store.js';
import { fixture } from '../helpers/fixtures.js';
import { httpConfig, KEY, loadModels, type Models } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const HOUR = 3_600_000;
/** The shipped forecaster's name and version: the page scores the model in service. */
const MODEL = { name: 'temperature-forecast', version: '1.1.0' };

let dir: string;
let store: SqliteStore;
let models: Models;
let server: HttpServer;
let browser: BrowserContext;
let base: string;

/** Two zones (one required, one the alarm's), an object mask and a motion mask over bus.jpg. */
const SCENE = {
  zones: [
    { name: 'street', points: [[0, 0.6], [1, 0.6], [1, 1], [0, 1]] as [number, number][] },
    { name: 'door', points: [[0.1, 0.2], [0.4, 0.2], [0.4, 0.9]] as [number, number][] },
  ],
  object_masks: [[[0.8, 0], [1, 0], [1, 0.2]]] as [number, number][][],
  motion_masks: [[[0, 0], [0.3, 0], [0.3, 0.05], [0, 0.05]]] as [number, number][][],
  required_zones: ['street'],
  alarm_zones: ['door'],
};

function serverWith(scenes: ConstructorParameters<typeof HttpServer>[0]['scenes'], bus: EventBus): HttpServer {
  return new HttpServer({
    config: { device_id: 'pi-garage', http: httpConfig({ enabled: true, host: '127.0.0.1', port: 0 }) },
    detector: models.detector,
    forecaster: models.forecaster,
    health: () => ({ components: { camera: { state: 'ok' }, sensor: { state: 'degraded', detail: 'one read retried' } } }),
    status: store,
    scenes,
    metrics: new AgentMetrics({ bus }),
    bus,
    logger: silentLogger(),
  });
}

/**
 * A day of readings every 5 minutes (a sine around 21 °C), hourly forecasts of 21.5 °C (the last one by
 * persistence), scored once their hour had passed, and one intrusion with a snapshot.
 */
function fillStore(now: number): void {
  const at = (ts: number) => Math.round((21 + 2 * Math.sin((ts / (24 * HOUR)) * 2 * Math.PI)) * 100) / 100;
  for (let ts = now - 24 * HOUR + 60_000; ts <= now; ts += 5 * 60_000) {
    store.saveReading({ valid: true, celsius: at(ts), ts, sensor: 'bme280@0x76' }, []);
  }
  for (let i = 23; i >= 0; i--) {
    const ts = now - i * HOUR;
    const model = i === 0 ? { name: 'persistence', version: '1' } : MODEL;
    store.saveForecast({ id: `f${i}`, ts, predicted_celsius: 21.5, horizon_s: 3600, from_ts: ts - HOUR, to_ts: ts, n: 60, model }, []);
    store.scores.track({ forecast_id: `f${i}`, target_ts: ts + HOUR, model: MODEL, model_celsius: 21.5, persistence_celsius: 21, served: i === 0 ? 'persistence' : 'model' });
    // The forecasts whose hour has passed (and whose target reading lies within the chart's 24 h) are scored.
    if (i >= 1 && i <= 22) store.scores.settle(`f${i}`, at(ts + HOUR), now);
  }
  const snapshot = join(dir, 'snapshot.jpg');
  copyFileSync(fixture('images/bus.jpg'), snapshot);
  const person = { class: 'person', confidence: 0.9, bbox: { xmin: 33, ymin: 270, xmax: 166, ymax: 620 }, track_id: 't1', top_score: 0.9, stationary: false, zones: [] };
  store.saveDetection({ id: 'd1', event_id: 'evt-1', camera: 'main', event: 'start', ts: now - 2 * HOUR, objects: [person], model: { name: 'yolov8n', version: '8' }, snapshot }, []);
  store.saveDetection({ id: 'd2', event_id: 'evt-1', camera: 'main', event: 'end', ts: now - 2 * HOUR + 60_000, objects: [], model: { name: 'yolov8n', version: '8' }, snapshot: null }, []);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'status-page-'));
  const logger = silentLogger();
  store = SqliteStore.open(join(dir, 'edge-agent.db'), { logger, config: defaultConfig().store });
  fillStore(Date.now());
  models = await loadModels();
  const bus = new EventBus(logger);
  const frame = readFileSync(fixture('images/bus.jpg'));
  server = serverWith([{ camera: 'main', latestFrame: async () => ({ jpeg: frame, ts: Date.now() }), layout: () => SCENE }], bus);
  await server.start();
  base = server.url()!;
  browser = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await models?.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('status page', () => {
  it('renders the chart with data, the snapshot, the events and health, using only the agent', async () => {
    const page = await browser.newPage();
    const foreign: string[] = [];
    const errors: string[] = [];
    page.on('request', (request) => {
      // The snapshot is fetched with the key and shown from a blob: URL of the page's own origin.
      if (!request.url().startsWith(base) && !request.url().startsWith(`blob:${base}`)) foreign.push(request.url());
    });
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${base}/#key=${KEY}`);

    const chart = page.locator('#chart svg');
    await chart.waitFor();
    expect(Number(await chart.getAttribute('data-readings'))).toBe(288);
    expect(Number(await chart.getAttribute('data-forecasts'))).toBe(24);
    const line = await page.locator('#chart path.reading').getAttribute('d');
    expect(line?.match(/L/g)?.length).toBeGreaterThan(200);
    expect(await page.locator('#chart circle.forecast').count()).toBe(24);
    // Forecast vs what happened: a line to the reading for each matured forecast; the fallback's dot is hollow.
    expect(await page.locator('#chart line.miss').count()).toBe(22);
    expect(await page.locator('#chart circle.forecast.persistence').count()).toBe(1);
    expect(await page.locator('#score-model').innerText()).toBe('temperature-forecast 1.1.0');
    const scoreRows = await page.locator('#score tr').allInnerTexts();
    expect(scoreRows).toHaveLength(2);
    expect(scoreRows[0]).toMatch(/^24 h\s+\d\.\d{3} °C\s+\d\.\d{3} °C\s+-?\d+%\s+22$/);

    const snapshot = page.locator('#snapshot');
    await snapshot.waitFor({ state: 'visible' });
    await page.waitForFunction("document.getElementById('snapshot').naturalWidth > 0");
    const size = await snapshot.evaluate((img) => {
      const { naturalWidth, naturalHeight } = img as unknown as { naturalWidth: number; naturalHeight: number };
      return [naturalWidth, naturalHeight];
    });
    expect(size).toEqual([554, 740]);

    // The camera's newest frame under the zones and masks: two zones (labelled with their roles), two masks.
    await page.waitForFunction("document.getElementById('scene-frame').naturalWidth > 0");
    expect(await page.locator('#scene-overlay polygon.zone').count()).toBe(2);
    expect(await page.locator('#scene-overlay polygon.zone.alarm').count()).toBe(1);
    expect(await page.locator('#scene-overlay polygon.object-mask').getAttribute('points')).toBe('0.8,0 1,0 1,0.2');
    expect(await page.locator('#scene-overlay polygon.motion-mask').count()).toBe(1);
    expect(await page.locator('#scene-overlay text').allTextContents()).toEqual(['street (required)', 'door (alarm)']);
    expect(await page.locator('#scene-caption').innerText()).toMatch(/^2 zone\(s\), 1 object mask\(s\), 1 motion mask\(s\); frame of /);
    // One camera: no camera choice.
    expect(await page.locator('#scene-camera').isHidden()).toBe(true);

    expect(await page.locator('#events tr').count()).toBe(2);
    expect(await page.locator('#events').innerText()).toContain('person 90%');
    expect(await page.locator('#overall').innerText()).toBe('degraded');
    expect(await page.locator('#device').innerText()).toBe('pi-garage');
    expect(await page.locator('#models').innerText()).toContain(`intruder model: ${models.detector.current()!.info.name}`);
    // The key moved from the URL into the page's storage.
    expect(new URL(page.url()).hash).toBe('');

    const screenshot = join(dir, 'status-page.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(20_000);
    expect(foreign, foreign.join(' ')).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('offers a choice of camera with several, and draws the chosen camera\'s frame and zones', async () => {
    const frame = readFileSync(fixture('images/bus.jpg'));
    const garage = { ...SCENE, zones: [], required_zones: [], alarm_zones: [], object_masks: [] };
    const frameAt = (hour: number) => async () => ({ jpeg: frame, ts: Date.UTC(2026, 11, 5, hour) });
    const two = serverWith(
      [
        { camera: 'front', latestFrame: frameAt(1), layout: () => SCENE },
        { camera: 'garage', latestFrame: frameAt(2), layout: () => garage },
      ],
      new EventBus(silentLogger()),
    );
    await two.start();
    const page = await browser.newPage();
    const frames: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/frame')) frames.push(new URL(request.url()).search);
    });
    try {
      await page.goto(`${two.url()}/#key=${KEY}`);
      const choice = page.locator('#scene-camera');
      await choice.waitFor({ state: 'visible' });
      expect(await choice.locator('option').allTextContents()).toEqual(['front', 'garage']);
      await page.waitForFunction("document.getElementById('scene-caption').textContent.startsWith('2 zone(s)')");
      await choice.selectOption('garage');
      await page.waitForFunction("document.getElementById('scene-caption').textContent.startsWith('0 zone(s), 0 object mask(s), 1 motion mask(s)')");
      expect(await page.locator('#scene-overlay polygon.zone').count()).toBe(0);
      expect(await choice.inputValue()).toBe('garage');
      expect(frames).toContain('?camera=front');
      expect(frames.at(-1)).toBe('?camera=garage');
    } finally {
      await page.close();
      await two.stop();
    }
  });

  it('asks for the key when it has none or a wrong one', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/#key=wrong-key-000000`);
    await page.locator('#key-form').waitFor({ state: 'visible' });
    expect(await page.locator('#key-error').innerText()).toBe('that key was refused');
    expect(await page.locator('#content').isHidden()).toBe(true);
    await page.locator('#key-input').fill(KEY);
    await page.locator('#key-form button').click();
    await page.locator('#chart svg').waitFor();
    expect(await page.locator('#key-form').isHidden()).toBe(true);
    await page.close();
  });
});

describe('GET /api/frame', () => {
  it('serves the newest frame as JPEG with its time, 503 before the first frame, 404 without a camera', async () => {
    const jpeg = readFileSync(fixture('images/bus.jpg'));
    let frame: { jpeg: Buffer; ts: number } | null = null;
    const bus = new EventBus(silentLogger());
    const withCamera = serverWith([{ camera: 'main', latestFrame: async () => frame, layout: () => SCENE }], bus);
    const withoutCamera = serverWith([], bus);
    await Promise.all([withCamera.start(), withoutCamera.start()]);
    try {
      const get = (on: HttpServer, path: string, key = KEY) => fetch(`${on.url()}${path}`, { headers: { 'x-api-key': key } });
      expect((await get(withCamera, '/api/frame', 'wrong-key-000000')).status).toBe(403);
      const early = await get(withCamera, '/api/frame');
      expect(early.status).toBe(503);
      expect(await early.text()).toContain('no camera frame yet');
      frame = { jpeg, ts: Date.UTC(2026, 11, 5, 12) };
      const served = await get(withCamera, '/api/frame');
      expect(served.headers.get('content-type')).toBe('image/jpeg');
      expect(served.headers.get('x-frame-ts')).toBe('2026-12-05T12:00:00.000Z');
      expect(Buffer.from(await served.arrayBuffer()).equals(jpeg)).toBe(true);
      expect(((await (await get(withCamera, '/api/status')).json()) as { scene: unknown }).scene).toEqual({ camera: 'main', ...SCENE });
      const none = await get(withoutCamera, '/api/frame');
      expect(none.status).toBe(404);
      expect(await none.text()).toContain('no camera is configured');
      expect(((await (await get(withoutCamera, '/api/status')).json()) as { scene: unknown }).scene).toBeNull();
    } finally {
      await Promise.all([withCamera.stop(), withoutCamera.stop()]);
    }
  });

  it('serves each camera by name with several cameras, the first by default, and names the cameras for an unknown one', async () => {
    const bus = new EventBus(silentLogger());
    const frameOf = (ts: number) => ({ jpeg: readFileSync(fixture('images/bus.jpg')), ts });
    const garageLayout = { ...SCENE, zones: [], alarm_zones: [], required_zones: [] };
    const server = serverWith(
      [
        { camera: 'front', latestFrame: async () => frameOf(Date.UTC(2026, 11, 5, 1)), layout: () => SCENE },
        { camera: 'garage', latestFrame: async () => frameOf(Date.UTC(2026, 11, 5, 2)), layout: () => garageLayout },
      ],
      bus,
    );
    await server.start();
    try {
      const get = (path: string) => fetch(`${server.url()}${path}`, { headers: { 'x-api-key': KEY } });
      expect((await get('/api/frame')).headers.get('x-frame-ts')).toBe('2026-12-05T01:00:00.000Z');
      expect((await get('/api/frame?camera=garage')).headers.get('x-frame-ts')).toBe('2026-12-05T02:00:00.000Z');
      const status = (await (await get('/api/status?camera=garage')).json()) as { cameras: string[]; scene: unknown };
      expect(status.cameras).toEqual(['front', 'garage']);
      expect(status.scene).toEqual({ camera: 'garage', ...garageLayout });
      const unknown = await get('/api/frame?camera=shed');
      expect(unknown.status).toBe(404);
      expect(await unknown.text()).toContain('no camera named \\"shed\\" (cameras: front, garage)');
    } finally {
      await server.stop();
    }
  });
});
