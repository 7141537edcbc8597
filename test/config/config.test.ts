import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { envVarName, schemaLeaves } from '../../agent/config/env.js';
import { defaultConfig, loadConfig } from '../../agent/config/load.js';
import { problemsOf } from './problems.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}


describe('the schema', () => {
  it('documents every key with a description and a default, and env names never collide', () => {
    const leaves = schemaLeaves();
    expect(leaves.length).toBeGreaterThan(80);
    for (const { path, schema } of leaves) {
      expect(schema.description.length, path.join('.')).toBeGreaterThan(10);
      expect(schema, path.join('.')).toHaveProperty('default');
    }
    const names = leaves.map((l) => envVarName(l.path));
    expect(new Set(names).size).toBe(names.length);
  });

  it('has the embedded demo as defaults', () => {
    const config = defaultConfig();
    expect(config).toMatchObject({
      data_dir: './data',
      camera: { driver: 'none' },
      sensor: { driver: 'sim' },
      intruder: { enabled: true, model: null },
      forecast: { enabled: true, model: null },
      mqtt: { url: 'mqtt://127.0.0.1:1883', prefix: 'edge', embedded_broker: { enabled: true, host: '127.0.0.1', port: 1883 }, aws_iot: { thing_name: null } },
      http: { enabled: true, host: '127.0.0.1', port: 8080 },
    });
    expect(config.device_id).toBe(hostname().replace(/[^A-Za-z0-9_.:-]/g, '-'));
    // Every key of AgentConfig is there (sections included), so nothing downstream meets undefined.
    expect(Object.keys(config).sort()).toEqual(
      ['alarm', 'camera', 'cameras', 'data_dir', 'device_id', 'diagnostics', 'forecast', 'homeassistant', 'http', 'intruder', 'log_level', 'motion', 'mqtt', 'ota', 'remote_config', 'sensor', 'store', 'watchdog'].sort(),
    );
  });
});

describe('loadConfig', () => {
  it('without a file: the defaults, with relative paths resolved against the working directory', () => {
    const config = loadConfig({ env: {}, cwd: dir });
    expect(config).toEqual({ ...defaultConfig(), data_dir: join(dir, 'data') });
  });

  it('reports every kind of mistake in one file at once, each with its key path, reason and line', () => {
    const path = file(
      'config.yaml',
      [
        'device_id: "kitchen/pi"', // 1: not a topic level
        'log_level: loud', // 2: not in the enum
        'camera:',
        '  driver: dir', // 4: needs camera.dir
        '  width: 10', // 5: below the minimum
        '  fsp: 5', // 6: unknown key, a typo
        'intruder:',
        '  threshold: "high"', // 8: wrong type
        '  classes: [person, person]', // 9: repeated
        'sensor: { driver: replay, file: missing.csv }', // 10: file does not exist
        'mqtt:',
        '  url: http://broker', // 12: wrong scheme
        '  password: hunter2', // 13: secrets go in files
        '  cert: /nonexistent/device.crt', // 14: missing, and key missing
        'forecast: { high_c: 18, low_c: 25 }', // 15: low above high
        'colour: blue', // 16: unknown section
      ].join('\n'),
    );
    const problems = problemsOf(() => loadConfig({ file: path, env: {} }));
    const byPath = Object.fromEntries(problems.map((p) => [p.path, `${p.message} [${p.source}]`]));
    expect(byPath).toEqual({
      device_id: 'must be 1 to 128 letters, digits or `_ . : -`, starting with a letter or digit (it is a topic level) (got "kitchen/pi") [config.yaml:1]',
      log_level: 'must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent" (got "loud") [config.yaml:2]',
      'camera.dir': 'is required with camera.driver "dir" (the folder of images to replay) [config.yaml:4]',
      'camera.width': 'must be >= 64 (got 10) [config.yaml:5]',
      'camera.fsp': 'unknown key (did you mean fps?) [config.yaml:6]',
      'intruder.threshold': 'must be a number (got "high") [config.yaml:8]',
      'intruder.classes': 'must not list the same item twice (got ["person","person"]) [config.yaml:9]',
      'sensor.file': `${join(dir, 'missing.csv')} does not exist [config.yaml:10]`,
      'mqtt.url': 'must start with mqtt://, mqtts://, ws:// or wss:// (got "http://broker") [config.yaml:12]',
      'mqtt.password': 'unknown key: put the password in a file and set password_file to its path [config.yaml:13]',
      'mqtt.cert': '/nonexistent/device.crt does not exist [config.yaml:14]',
      'mqtt.key': 'mqtt.cert and mqtt.key go together: set both or neither [config.yaml:12]', // absent: its section
      'forecast.low_c': 'must be below forecast.high_c (25 >= 18) [config.yaml:15]',
      colour: 'unknown key [config.yaml:16]',
    });
    const message = (() => {
      try {
        loadConfig({ file: path, env: {} });
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(message).toMatch(new RegExp(`^invalid configuration in ${path.replace(/[.]/g, '\\.')} \\(14 problems\\):\\n  - device_id: `));
  });

  it('takes per-class filter overrides (null: the default filter\'s), and refuses one that leaves no box', () => {
    const ok = loadConfig({ file: file('filters-ok.yaml', 'intruder:\n  filters:\n    bear: { threshold: 0.9 }\n'), env: {} });
    expect(ok.intruder.filters.bear).toMatchObject({ threshold: 0.9, min_score: 0.6, min_area: null });
    expect(ok.intruder.filters.person.threshold).toBeNull();
    expect(ok.intruder.filters.default).toEqual({ min_score: 0.5, threshold: 0.7, min_area: 0, max_area: 1, min_ratio: 0, max_ratio: 100 });
    const empty = file('filters.yaml', ['intruder:', '  filters:', '    default: { max_area: 0.5 }', '    person: { min_area: 0.6 }'].join('\n'));
    expect(problemsOf(() => loadConfig({ file: empty, env: {} }))).toEqual([
      { path: 'intruder.filters.person.min_area', message: 'leaves no person box that counts: min_area 0.6 is above max_area 0.5', source: 'filters.yaml:4' },
    ]);
  });

  it('reports an OTA public key or CA that cannot be used as a config problem, not a failed start', () => {
    const notAKey = file('not-a-key.pem', 'hello');
    const path = file('ota.yaml', `ota:\n  public_key: ${notAKey}\n  ca: ${join(dir, 'missing-ca.pem')}\n`);
    const byPath = Object.fromEntries(problemsOf(() => loadConfig({ file: path, env: {} })).map((p) => [p.path, p.message]));
    expect(byPath).toEqual({
      'ota.public_key': expect.stringMatching(/^not a PEM public key/),
      'ota.ca': `${join(dir, 'missing-ca.pem')} does not exist`,
    });
  });

  it('reports YAML syntax errors with their line, and a file that is not a mapping', () => {
    expect(problemsOf(() => loadConfig({ file: file('bad.yaml', 'mqtt:\n  url: "mqtt://x\nstore: {'), env: {} }))[0]).toMatchObject({
      path: '',
      message: expect.stringMatching(/^not valid YAML\/JSON: /),
      source: expect.stringMatching(/^bad\.yaml:\d+:\d+$/),
    });
    expect(problemsOf(() => loadConfig({ file: file('list.yaml', '- a\n- b\n'), env: {} }))).toEqual([
      { path: '', message: 'must be a mapping of keys to values (got a list)', source: 'list.yaml' },
    ]);
    expect(problemsOf(() => loadConfig({ file: join(dir, 'absent.yaml'), env: {} }))[0]!.message).toMatch(/^cannot read the configuration file .*absent\.yaml: ENOENT/);
  });

  it('accepts JSON, and resolves relative paths in the file against the file\'s folder', () => {
    mkdirSync(join(dir, 'etc', 'certs'), { recursive: true });
    writeFileSync(join(dir, 'etc', 'certs', 'ca.pem'), 'pem');
    const path = file('etc/config.json', JSON.stringify({ device_id: 'pi-7', data_dir: 'state', mqtt: { ca: 'certs/ca.pem', url: 'mqtts://broker.lan:8883' } }));
    const config = loadConfig({ file: path, env: {}, cwd: '/somewhere/else' });
    expect(config.device_id).toBe('pi-7');
    expect(config.data_dir).toBe(join(dir, 'etc', 'state'));
    expect(config.mqtt.ca).toBe(join(dir, 'etc', 'certs', 'ca.pem'));
    expect(config.camera.width).toBe(1280);
  });

  it('applies EDGE_AGENT_* overrides by type over the file, and command-line overrides over both', () => {
    const path = file('config.yaml', 'sensor:\n  interval_s: 5\nmqtt:\n  keepalive_s: 30\n');
    const config = loadConfig({
      file: path,
      cwd: dir,
      env: {
        EDGE_AGENT_SENSOR_INTERVAL_S: '2.5',
        EDGE_AGENT_SENSOR_ADDRESS: '0x76',
        EDGE_AGENT_CAMERA_HFLIP: 'yes',
        EDGE_AGENT_FORECAST_HIGH_C: '27',
        EDGE_AGENT_INTRUDER_THREADS: 'null',
        EDGE_AGENT_INTRUDER_CLASSES: 'person, cat',
        EDGE_AGENT_MQTT_EMBEDDED_BROKER_ENABLED: 'false',
        EDGE_AGENT_LOG_LEVEL: 'debug',
        EDGE_AGENT_FIXTURES: '/elsewhere', // not configuration: ignored
      },
      overrides: { mqtt: { keepalive_s: 45, url: undefined }, camera: { driver: 'dir', dir: dir } },
    });
    expect(config.sensor).toMatchObject({ interval_s: 2.5, address: 0x76 });
    expect(config.camera).toMatchObject({ hflip: true, driver: 'dir', dir });
    expect(config.forecast.high_c).toBe(27);
    expect(config.intruder).toMatchObject({ threads: null, classes: ['person', 'cat'] });
    expect(config.mqtt).toMatchObject({ keepalive_s: 45, url: 'mqtt://127.0.0.1:1883', embedded_broker: { enabled: false } });
    expect(config.log_level).toBe('debug');
  });

  it('runs the embedded broker (auto) exactly when no mqtt.url is configured; true and false force it', () => {
    const load = (yaml: string, env: NodeJS.ProcessEnv = {}) => {
      writeFileSync(join(dir, 'broker.yaml'), yaml);
      return loadConfig({ file: join(dir, 'broker.yaml'), env }).mqtt.embedded_broker.enabled;
    };
    expect(load('device_id: a\n')).toBe(true);
    expect(load('mqtt: { url: "mqtt://127.0.0.1:45999" }\n')).toBe(false);
    expect(load('device_id: a\n', { EDGE_AGENT_MQTT_URL: 'mqtt://127.0.0.1:45999' })).toBe(false);
    expect(load('mqtt: { url: "mqtt://127.0.0.1:45999", embedded_broker: { enabled: auto } }\n')).toBe(false);
    expect(load('mqtt: { url: "mqtt://127.0.0.1:45999", embedded_broker: { enabled: true } }\n')).toBe(true);
    expect(load('mqtt: { embedded_broker: { enabled: false } }\n')).toBe(false);
    expect(load('device_id: a\n', { EDGE_AGENT_MQTT_EMBEDDED_BROKER_ENABLED: 'auto' })).toBe(true);
    expect(() => load('mqtt: { embedded_broker: { enabled: sometimes } }\n')).toThrow(/mqtt\.embedded_broker\.enabled: must be one of true, false, "auto" \(got "sometimes"\)/);
  });

  it('names the variable when an environment value is wrong, and catches misspelt variables', () => {
    const problems = problemsOf(() =>
      loadConfig({ env: { EDGE_AGENT_HTTP_PORT: 'eighty', EDGE_AGENT_MOTION_ENABLED: 'maybe', EDGE_AGENT_MQTT_PASWORD_FILE: '/run/secrets/p' } }),
    );
    expect(problems).toEqual([
      { path: '', message: 'environment variable EDGE_AGENT_MQTT_PASWORD_FILE matches no configuration key (did you mean EDGE_AGENT_MQTT_PASSWORD_FILE?)' },
      { path: 'motion.enabled', message: 'must be a boolean (got "maybe")', source: 'EDGE_AGENT_MOTION_ENABLED' },
      { path: 'http.port', message: 'must be a whole number (got "eighty")', source: 'EDGE_AGENT_HTTP_PORT' },
    ]);
  });

  it('reads secrets from files: <key>_file in the file or EDGE_AGENT_<KEY>_FILE, one list item a line', () => {
    const keys = file('api-keys', 'key-one-1234\n\nkey-two-5678\n');
    const user = file('mqtt-user', 'sensor-user\n');
    const password = file('mqtt-password', 's3cret\n');
    const path = file('config.yaml', `http:\n  api_keys_file: ${keys}\nmqtt:\n  password_file: ${password}\n`);
    const config = loadConfig({ file: path, env: { EDGE_AGENT_MQTT_USERNAME_FILE: user } });
    expect(config.http.api_keys).toEqual(['key-one-1234', 'key-two-5678']);
    expect(config.mqtt.username).toBe('sensor-user');
    expect(config.mqtt.password_file).toBe(password);
    expect(config).not.toHaveProperty('http.api_keys_file');
  });

  it('reports unreadable secret files and a key given both ways', () => {
    const path = file('config.yaml', `http:\n  api_keys: [abcdefgh12]\n  api_keys_file: ${join(dir, 'k')}\nota:\n  public_key_file: ${join(dir, 'nope.pem')}\n`);
    expect(problemsOf(() => loadConfig({ file: path, env: {} }))).toEqual([
      { path: 'http.api_keys_file', message: 'set either api_keys or api_keys_file, not both', source: 'config.yaml:3' },
      { path: 'ota.public_key_file', message: expect.stringMatching(/^cannot read the secret file: ENOENT: no such file or directory/), source: 'config.yaml:5' },
    ]);
  });

  it('the AWS IoT profile: prefix `things` by default, and it needs mqtts with a certificate and key', () => {
    const cert = file('device.crt', 'pem');
    const key = file('device.key', 'pem');
    const ok = loadConfig({ env: { EDGE_AGENT_MQTT_AWS_IOT_THING_NAME: 'greenhouse-3', EDGE_AGENT_MQTT_URL: 'mqtts://abc-ats.iot.eu-west-1.amazonaws.com:8883', EDGE_AGENT_MQTT_CERT: cert, EDGE_AGENT_MQTT_KEY: key } });
    expect(ok.mqtt.prefix).toBe('things');
    expect(loadConfig({ env: { EDGE_AGENT_MQTT_AWS_IOT_THING_NAME: 'g', EDGE_AGENT_MQTT_PREFIX: 'farm', EDGE_AGENT_MQTT_URL: 'mqtts://x', EDGE_AGENT_MQTT_CERT: cert, EDGE_AGENT_MQTT_KEY: key } }).mqtt.prefix).toBe('farm');
    expect(problemsOf(() => loadConfig({ env: { EDGE_AGENT_MQTT_AWS_IOT_THING_NAME: 'greenhouse-3' } }))).toEqual([
      { path: 'mqtt.url', message: 'must be mqtts:// (port 8883) with AWS IoT Core (got "mqtt://127.0.0.1:1883")', source: undefined },
      { path: 'mqtt.cert', message: 'is required with mqtt.aws_iot.thing_name (AWS IoT Core authenticates devices by certificate)', source: undefined },
      { path: 'mqtt.key', message: 'is required with mqtt.aws_iot.thing_name (AWS IoT Core authenticates devices by certificate)', source: undefined },
    ]);
  });
});
