/**
 * The status page: `GET /` and its files under `/status/` are public (they are the same on every device
 * and hold no data); the page reads `GET /api/status`, `GET /api/snapshot` and `GET /api/frame` (the
 * camera's newest frame, under the zones and masks the page draws) with the API key, which the user
 * gives once (or in the URL fragment `#key=...`, which browsers never send to the server).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../lib/paths.js';
import { HttpError } from './errors.js';
import { setErrorFormat } from './replies.js';
import { healthSummary, type HealthSources } from './routes-ops.js';
import { latestSnapshot, RECENT_DETECTIONS, statusPayload } from './status-data.js';
import type { SceneSource, StatusDataSource } from './types.js';

/** Shipped beside the code (package.json `files`), served from memory after the first request. */
const PAGE_DIR = join(packageRoot(), 'agent', 'http', 'status-page');

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/status/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/status/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export function statusRoutes(sources: HealthSources, status: StatusDataSource, scenes: readonly SceneSource[]) {
  /** `?camera=<name>`: that camera's scene; none: the first camera's (null without a camera). */
  const sceneOf = (query: unknown): SceneSource | null => {
    const name = (query as { camera?: unknown }).camera;
    if (typeof name !== 'string') return scenes[0] ?? null;
    const scene = scenes.find((s) => s.camera === name);
    if (!scene) throw new HttpError(404, `no camera named ${JSON.stringify(name).slice(0, 80)} (cameras: ${scenes.map((s) => s.camera).join(', ') || 'none'})`, {}, 'no_camera');
    return scene;
  };

  const cache = new Map<string, Buffer>();

  async function asset(file: string): Promise<Buffer> {
    let bytes = cache.get(file);
    if (!bytes) cache.set(file, (bytes = await readFile(join(PAGE_DIR, file))));
    return bytes;
  }

  return async function register(app: FastifyInstance): Promise<void> {
    setErrorFormat(app, 'v1');

    for (const [url, { file, type }] of Object.entries(ASSETS)) {
      app.get(url, { config: { public: true } }, async (_request, reply) => {
        return reply.type(type).header('cache-control', 'no-cache').send(await asset(file));
      });
    }

    app.get('/api/status', async (request) => {
      const scene = sceneOf(request.query);
      return { ...statusPayload(status, healthSummary(sources), sources.now()), cameras: scenes.map((s) => s.camera), scene: scene ? { camera: scene.camera, ...scene.layout() } : null };
    });

    app.get('/api/frame', async (request, reply) => {
      const scene = sceneOf(request.query);
      if (!scene) throw new HttpError(404, 'no camera is configured (camera.driver is "none" or intruder detection is off)', {}, 'no_frame');
      const frame = await scene.latestFrame();
      if (!frame) throw new HttpError(503, 'no camera frame yet: the camera has not delivered one since the agent started', {}, 'no_frame');
      return reply.type('image/jpeg').header('cache-control', 'no-cache').header('x-frame-ts', new Date(frame.ts).toISOString()).send(frame.jpeg);
    });

    app.get('/api/snapshot', async (_request, reply) => {
      const latest = latestSnapshot(status.recentDetections(RECENT_DETECTIONS));
      if (!latest?.snapshot) throw new HttpError(404, 'no snapshot yet: none has been taken since the store was created', {}, 'no_snapshot');
      let jpeg: Buffer;
      try {
        jpeg = await readFile(latest.snapshot);
      } catch {
        throw new HttpError(404, `the latest snapshot file is gone (${latest.snapshot}): snapshots are pruned after intruder.snapshot.max_files`, {}, 'no_snapshot');
      }
      return reply.type('image/jpeg').header('cache-control', 'no-cache').send(jpeg);
    });
  };
}
