/**
 * The pieces of remote configuration that need no broker: secrets redacted (and recognised when sent
 * back unchanged), a partial configuration merged into a file's text, and which keys apply live.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultConfig } from '../../agent/config/load.js';
import { mergeIntoConfigText } from '../../agent/config/file-edit.js';
import { keepUnchangedSecrets, redactConfig, REDACTED } from '../../agent/config/redact.js';
import { applyLive, changedKeys } from '../../agent/daemon/live-config.js';
import { captureLog } from '../helpers/log-capture.js';

function configWithSecrets() {
  const config = defaultConfig();
  config.mqtt.url = 'mqtts://fleet:s3cret@broker.example:8883';
  config.camera.input = 'rtsp://admin:hunter2@10.0.0.5/stream1?token=abc';
  config.http.api_keys = ['key-one-123456', 'key-two-123456'];
  return config;
}

describe('redactConfig', () => {
  it('redacts every leaf the schema marks secret, and only those', () => {
    const config = configWithSecrets();
    const redacted = redactConfig(config);
    const text = JSON.stringify(redacted);
    for (const secret of ['s3cret', 'fleet', 'hunter2', 'admin', 'token=abc', 'key-one', 'key-two']) expect(text).not.toContain(secret);
    expect(redacted).toMatchObject({
      mqtt: { url: `mqtts://${REDACTED}@broker.example:8883` },
      camera: { input: `rtsp://${REDACTED}@10.0.0.5/stream1?${REDACTED}` },
      http: { api_keys: [REDACTED, REDACTED] },
      sensor: config.sensor,
    });
    // The running configuration itself is untouched.
    expect(config.http.api_keys).toEqual(['key-one-123456', 'key-two-123456']);
  });

  it('leaves URLs without credentials and device paths as they are', () => {
    const config = defaultConfig();
    config.camera.input = '/dev/video0';
    expect(redactConfig(config)).toMatchObject({ mqtt: { url: 'mqtt://127.0.0.1:1883' }, camera: { input: '/dev/video0' } });
  });

  it('redacts each broker of a failover list on its own, keeping the addresses readable', () => {
    const config = defaultConfig();
    config.mqtt.url = ['mqtts://fleet:s3cret@a.example:8883', 'mqtt://b.example:1883'];
    expect(redactConfig(config)).toMatchObject({ mqtt: { url: [`mqtts://${REDACTED}@a.example:8883`, 'mqtt://b.example:1883'] } });
  });
});

describe('keepUnchangedSecrets', () => {
  it('drops secrets sent back in their redacted form, so the real ones stay', () => {
    const config = configWithSecrets();
    const partial = JSON.parse(JSON.stringify({ camera: redactConfig(config).camera, http: { api_keys: [REDACTED, REDACTED] }, log_level: 'debug' })) as Record<string, unknown>;
    expect(keepUnchangedSecrets(partial, config)).toEqual([]);
    expect(partial).not.toHaveProperty('camera.input');
    expect(partial).not.toHaveProperty('http.api_keys');
    expect(partial).toHaveProperty('log_level', 'debug');
  });

  it('refuses a value that still holds the marker but is not the redacted current one, and keeps new real secrets', () => {
    const config = configWithSecrets();
    const partial: Record<string, unknown> = { http: { api_keys: [REDACTED, 'key-three-123456'] }, camera: { input: 'rtsp://me:new@10.0.0.6/s' } };
    expect(keepUnchangedSecrets(partial, config)).toEqual([{ path: 'http.api_keys', message: expect.stringMatching(/redaction marker/) }]);
    expect(partial).toHaveProperty('camera.input', 'rtsp://me:new@10.0.0.6/s');
  });
});

describe('mergeIntoConfigText', () => {
  const original = ['# the kitchen Pi', 'log_level: info # quiet', 'sensor:', '  driver: sim', '  interval_s: 10 # seconds', 'motion: null', ''].join('\n');

  it('changes only the keys set in a YAML file, keeping its comments and other keys', () => {
    const text = mergeIntoConfigText('config.yaml', original, { log_level: 'debug', sensor: { interval_s: 1 }, motion: { threshold: 0.1 }, forecast: { high_c: 30 } });
    expect(text).toContain('# the kitchen Pi');
    expect(text).toContain('# seconds');
    expect(parse(text)).toEqual({ log_level: 'debug', sensor: { driver: 'sim', interval_s: 1 }, motion: { threshold: 0.1 }, forecast: { high_c: 30 } });
  });

  it('starts a file that does not exist yet, and keeps a JSON file JSON', () => {
    expect(parse(mergeIntoConfigText('config.yaml', null, { sensor: { interval_s: 1 } }))).toEqual({ sensor: { interval_s: 1 } });
    const json = mergeIntoConfigText('config.json', '{"sensor":{"driver":"sim"},"intruder":{"classes":["person","dog"]}}', { sensor: { interval_s: 2 }, intruder: { classes: ['cat'] } });
    expect(JSON.parse(json)).toEqual({ sensor: { driver: 'sim', interval_s: 2 }, intruder: { classes: ['cat'] } });
  });
});

describe('applyLive', () => {
  it('applies the live keys to the running configuration and lists the others for a restart', () => {
    const running = defaultConfig();
    const next = structuredClone(running);
    next.motion.threshold = 0.2;
    next.sensor.interval_s = 0.5;
    next.store.retention_days = 7;
    next.http.port = 9090;
    const cadences: unknown[] = [];
    const { logger } = captureLog('info');
    const changed = changedKeys(running, next);
    expect(changed).toEqual(['motion.threshold', 'sensor.interval_s', 'store.retention_days', 'http.port']);
    const motion = running.motion;
    expect(applyLive(changed, running, next, { logger, telemetry: () => ({ setCadence: (c) => cadences.push(c) }) })).toEqual({
      applied: ['motion.threshold', 'sensor.interval_s'],
      restart_required: ['store.retention_days', 'http.port'],
    });
    // In place: the motion gate holds this very section object.
    expect(motion.threshold).toBe(0.2);
    expect(cadences).toEqual([{ periodMs: 500 }]);
    expect(running.store.retention_days).toBe(30);
    expect(changedKeys(running, next)).toEqual(['store.retention_days', 'http.port']);
  });

  it('changes the level of loggers already handed out', () => {
    const running = defaultConfig();
    const next = { ...structuredClone(running), log_level: 'debug' as const };
    const log = captureLog('info');
    const child = log.logger.child({ module: 'telemetry' });
    child.debug('before');
    applyLive(changedKeys(running, next), running, next, { logger: log.logger, telemetry: () => null });
    child.debug('after');
    expect(log.lines.map((l) => l.msg)).toEqual(['after']);
    expect(running.log_level).toBe('debug');
  });
});
