/**
 * What a broken or hostile configuration cannot do: hang the loader, flood the error message, point the
 * data folder at the kernel's virtual filesystems, or set a duration that overflows Node's timers.
 * Each is a configuration problem (exit status 78) naming the key, never a hang or an internal error.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaLeaves } from '../../agent/config/env.js';
import { ConfigError, loadConfig, MAX_CONFIG_FILE_BYTES } from '../../agent/config/load.js';
import { problemsOf } from './problems.js';
import { TestPki } from '../helpers/pki.js';

/** The longest delay Node's setTimeout holds; longer ones fire after 1 ms. */
const TIMER_MAX_MS = 2 ** 31 - 1;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-config-hostile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}


describe('durations', () => {
  it('every duration key has an upper bound that a timer can hold', () => {
    const durations = schemaLeaves().filter((leaf) => leaf.path.at(-1)!.endsWith('_s'));
    expect(durations.length).toBeGreaterThan(10);
    for (const { path, schema } of durations) {
      expect(schema.maximum, `${path.join('.')} has a maximum`).toBeTypeOf('number');
      expect(schema.maximum! * 1000, `${path.join('.')}'s maximum fits a timer`).toBeLessThanOrEqual(TIMER_MAX_MS);
    }
  });

  it('refuses a sensor interval that would overflow the timer (it then fired every millisecond)', () => {
    const path = file('interval.yaml', 'sensor:\n  interval_s: 3000000\nalarm:\n  hold_s: 1e12\n');
    expect(problemsOf(() => loadConfig({ file: path, env: {} }))).toEqual([
      { path: 'sensor.interval_s', message: 'must be <= 86400 (got 3000000)', source: 'interval.yaml:2' },
      { path: 'alarm.hold_s', message: 'must be <= 86400 (got 1000000000000)', source: 'interval.yaml:4' },
    ]);
  });
});

describe('the data folder', () => {
  it.each([
    ['/proc/1/nope', /^\/proc\/1\/nope is on proc, a virtual filesystem of the kernel/],
    ['/proc/self/nope/data', /^\/proc\/self\/nope\/data is on proc, a virtual filesystem/],
    ['/sys/kernel/nope', /^\/sys\/kernel\/nope is on sysfs, a virtual filesystem/],
  ])('refuses %s, on a filesystem of the kernel', (dataDir, message) => {
    const started = performance.now();
    const problems = problemsOf(() => loadConfig({ env: { EDGE_AGENT_DATA_DIR: dataDir } }));
    expect(problems).toEqual([{ path: 'data_dir', message: expect.stringMatching(message), source: 'EDGE_AGENT_DATA_DIR' }]);
    // The check looks, it does not try: no recursive mkdir, so no spin.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('refuses a folder under a file, and a file where the folder goes', () => {
    const plain = file('plain-file', 'x');
    expect(problemsOf(() => loadConfig({ env: {}, overrides: { data_dir: join(plain, 'data') } }))).toEqual([
      { path: 'data_dir', message: `${plain} is a file, so ${join(plain, 'data')} cannot be created`, source: 'command line' },
    ]);
    expect(problemsOf(() => loadConfig({ env: {}, overrides: { data_dir: plain } }))[0]!.message).toBe(`${plain} exists and is not a folder`);
    expect(loadConfig({ env: {}, overrides: { data_dir: join(dir, 'new', 'data') } }).data_dir).toBe(join(dir, 'new', 'data'));
  });
});

describe('files', () => {
  it('refuses a YAML alias bomb ("billion laughs") as a configuration problem with its file and line', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [prev, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'g'], ['g', 'h'], ['h', 'i']]) {
      levels.push(`${name}: &${name} [${new Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const path = file('laughs.yaml', levels.join('\n') + '\n');
    expect(problemsOf(() => loadConfig({ file: path, env: {} }))).toEqual([
      { path: '', message: 'its YAML aliases expand too much (over 100): refused as a resource exhaustion attack', source: 'laughs.yaml:2' },
    ]);
  });

  it('refuses a configuration file over 1 MB unread, and quotes a huge value only in part', () => {
    const huge = file('huge.yaml', `device_id: ${'x'.repeat(MAX_CONFIG_FILE_BYTES)}\n`);
    const [tooBig] = problemsOf(() => loadConfig({ file: huge, env: {} }));
    expect(tooBig!.message).toBe(`cannot read the configuration file ${huge}: ${huge} is ${MAX_CONFIG_FILE_BYTES + 12} bytes, over the limit of ${MAX_CONFIG_FILE_BYTES}`);

    const error = (() => {
      try {
        loadConfig({ env: {}, overrides: { device_id: 'y/'.repeat(5_000_000) } });
      } catch (err) {
        return err as Error;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.message).toMatch(/device_id: must be 1 to 128 .*\(got "(y\/){31}y… \(10000002 characters\)\)/);
    expect(error!.message.length).toBeLessThan(400);
  });

  it('refuses a device or a FIFO as the configuration file, a secret or a key without reading it', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(problemsOf(() => loadConfig({ file: '/dev/zero', env: {} }))[0]!.message).toBe(
      'cannot read the configuration file /dev/zero: /dev/zero is a character device, not a regular file',
    );
    expect(problemsOf(() => loadConfig({ file: fifo, env: {} }))[0]!.message).toBe(`cannot read the configuration file ${fifo}: ${fifo} is a FIFO, not a regular file`);
    expect(problemsOf(() => loadConfig({ env: { EDGE_AGENT_HTTP_API_KEYS_FILE: '/dev/zero', EDGE_AGENT_OTA_PUBLIC_KEY: fifo } }))).toEqual([
      { path: 'http.api_keys_file', message: 'cannot read the secret file: /dev/zero is a character device, not a regular file', source: 'EDGE_AGENT_HTTP_API_KEYS_FILE' },
      { path: 'ota.public_key', message: `${fifo} is a FIFO, not a regular file`, source: 'EDGE_AGENT_OTA_PUBLIC_KEY' },
    ]);
  });

  it('refuses an ota.ca that holds no PEM certificate, and takes a real CA', () => {
    const notPem = file('not-a-ca.pem', 'just some text\n');
    const broken = file('broken-ca.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(problemsOf(() => loadConfig({ env: { EDGE_AGENT_OTA_CA: notPem } }))).toEqual([
      { path: 'ota.ca', message: `${notPem} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, source: 'EDGE_AGENT_OTA_CA' },
    ]);
    expect(problemsOf(() => loadConfig({ env: { EDGE_AGENT_OTA_CA: broken } }))[0]!.message).toMatch(new RegExp(`^${broken}: certificate 1 of 1 cannot be parsed`));
    const pki = TestPki.create();
    try {
      expect(loadConfig({ env: { EDGE_AGENT_OTA_CA: pki.ca } }).ota.ca).toBe(pki.ca);
    } finally {
      pki.remove();
    }
  });
});
