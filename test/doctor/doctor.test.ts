/**
 * `edge-agent doctor`'s checks against fake trees (sysfs GPIO and thermal folders, a fake I2C bus with an
 * MCP9808 on it, a fake rpicam-vid on PATH), the real models, and a real mosquitto (plain and TLS).
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../agent/config/load.js';
import type { AgentConfig } from '../../agent/config/types.js';
import { brokerCheck } from '../../agent/doctor/broker.js';
import { cameraCheck, gpioCheck, sensorCheck } from '../../agent/doctor/hardware.js';
import { forecastModelCheck, intruderModelCheck } from '../../agent/doctor/models.js';
import { archCheck, clockCheck, dataDirCheck, nodeCheck } from '../../agent/doctor/system.js';
import { updatesCheck } from '../../agent/doctor/updates.js';
import type { CommandResult, DoctorContext } from '../../agent/doctor/types.js';
import type { I2CBus } from '../../drivers/i2c/types.js';
import { hashFile, ModelRegistry } from '../../agent/ota/registry.js';
import { fixture } from '../helpers/fixtures.js';
import { freePort, Mosquitto } from '../helpers/mosquitto.js';
import { fakePath } from '../drivers/camera/helpers.js';
import { doctorContext } from './context.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'doctor-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fresh(name: string): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  return path;
}

type Overrides = { [K in keyof AgentConfig]?: Partial<AgentConfig[K]> };

function context(overrides: Overrides = {}, extra: Partial<DoctorContext> = {}): DoctorContext {
  const base = defaultConfig();
  const config = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) {
    const current = base[key as keyof AgentConfig];
    config[key] = typeof current === 'object' && current !== null ? { ...current, ...(value as object) } : value;
  }
  return doctorContext(dir, config as unknown as AgentConfig, extra);
}

describe('system checks', () => {
  it('needs Node.js 20 or later on a 64-bit architecture', async () => {
    expect(await nodeCheck.run(context())).toEqual({ status: 'pass', message: 'v20.20.2' });
    const old = await nodeCheck.run(context({}, { node: { version: 'v18.19.0', arch: 'arm64', platform: 'linux' } }));
    expect(old).toMatchObject({ status: 'fail', message: 'v18.19.0 is too old (20 or later needed)' });
    expect(await archCheck.run(context())).toEqual({ status: 'pass', message: 'linux/arm64 (64-bit)' });
    const arm32 = await archCheck.run(context({}, { node: { version: 'v20.0.0', arch: 'arm', platform: 'linux' } }));
    expect(arm32.status).toBe('fail');
    expect(arm32.message).toContain('32-bit');
    expect(arm32.hint).toContain('64-bit Raspberry Pi OS');
  });

  it('writes into the data folder and reports its free space', async () => {
    const ok = await dataDirCheck.run(context({ data_dir: join(dir, 'data') }));
    expect(ok.status).not.toBe('fail');
    expect(ok.message).toMatch(/data is writable, \d+ MiB free/);
    writeFileSync(join(dir, 'a-file'), 'x');
    const blocked = await dataDirCheck.run(context({ data_dir: join(dir, 'a-file', 'data') }));
    expect(blocked).toMatchObject({ status: 'fail', message: `${join(dir, 'a-file', 'data')} is not writable (ENOTDIR)` });
  });

  it('tells whether the clock is synchronised', async () => {
    const timesync = join(dir, 'synchronized');
    writeFileSync(timesync, '');
    expect((await clockCheck.run(context({}, { timesyncFile: timesync }))).message).toMatch(/^synchronised \(systemd-timesyncd\)/);
    const answer = (stdout: string, code: number | null = 0) => async (): Promise<CommandResult> => ({ code, stdout });
    expect((await clockCheck.run(context({}, { run: answer('yes\n') }))).status).toBe('pass');
    expect(await clockCheck.run(context({}, { run: answer('no\n') }))).toMatchObject({ status: 'warn', hint: expect.stringContaining('timedatectl set-ntp true') });
    expect((await clockCheck.run(context({}, { run: answer('', null) }))).message).toMatch(/cannot tell/);
    const unset = await clockCheck.run(context({}, { now: () => Date.UTC(1970, 0, 1, 0, 5) }));
    expect(unset).toMatchObject({ status: 'fail', message: 'the clock says 1970-01-01T00:05:00.000Z: it has not been set' });
  });
});

describe('GPIO check', () => {
  function gpioTree(name: string, chips: { chip: string; label: string; base: number; ngpio: number }[]): string {
    const root = fresh(name);
    writeFileSync(join(root, 'export'), '');
    for (const c of chips) {
      mkdirSync(join(root, c.chip));
      writeFileSync(join(root, c.chip, 'label'), `${c.label}\n`);
      writeFileSync(join(root, c.chip, 'base'), `${c.base}\n`);
      writeFileSync(join(root, c.chip, 'ngpio'), `${c.ngpio}\n`);
    }
    return root;
  }
  const sysfs = (gpio: string) => ({ gpio, w1: dir, thermal: dir });

  it('finds the header controller and its base on a Pi 4 and a Pi 5', async () => {
    const pi4 = gpioTree('pi4', [
      { chip: 'gpiochip504', label: 'raspberrypi-exp-gpio', base: 504, ngpio: 8 },
      { chip: 'gpiochip512', label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
    ]);
    expect(await gpioCheck.run(context({ alarm: { gpio: 17 } }, { sysfs: sysfs(pi4) }))).toEqual({
      status: 'pass',
      message: 'BCM GPIO 17 is sysfs GPIO 529 (gpiochip512 (pinctrl-bcm2711, base 512), Raspberry Pi 4)',
    });
    const pi5 = gpioTree('pi5', [
      { chip: 'gpiochip512', label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32 },
      { chip: 'gpiochip571', label: 'pinctrl-rp1', base: 571, ngpio: 54 },
    ]);
    expect((await gpioCheck.run(context({ alarm: { gpio: 17 } }, { sysfs: sysfs(pi5) }))).message).toBe(
      'BCM GPIO 17 is sysfs GPIO 588 (gpiochip571 (pinctrl-rp1, base 571), Raspberry Pi 5)',
    );
    const overridden = await gpioCheck.run(context({ alarm: { gpio: 17, gpio_base: 0 } }, { sysfs: sysfs(pi5) }));
    expect(overridden).toMatchObject({ status: 'warn', message: 'BCM GPIO 17 is sysfs GPIO 17 (alarm.gpio_base)' });
  });

  it('fails with a hint when there is no sysfs GPIO or no known controller, and passes without an alarm GPIO', async () => {
    expect(await gpioCheck.run(context())).toEqual({ status: 'pass', message: 'no alarm GPIO configured (the alarm only logs)' });
    const missing = await gpioCheck.run(context({ alarm: { gpio: 17 } }));
    expect(missing).toMatchObject({ status: 'fail', message: `cannot read ${join(dir, 'no-gpio')} (ENOENT)` });
    const unknown = gpioTree('laptop', [{ chip: 'gpiochip0', label: 'INT34C5:00', base: 0, ngpio: 360 }]);
    const other = await gpioCheck.run(context({ alarm: { gpio: 17 } }, { sysfs: sysfs(unknown) }));
    expect(other).toMatchObject({ status: 'fail', message: 'no Raspberry Pi header controller among gpiochip0 (INT34C5:00, base 0)' });
    expect(other.hint).toContain('alarm.gpio_base');
  });
});

/** An I2C bus with one MCP9808 at 0x18 reading 21.5 °C; every other address NACKs. */
function mcp9808Bus(): I2CBus {
  const registers: Record<number, number> = { 0x05: 0xc158, 0x06: 0x0054, 0x07: 0x0400 };
  const nack = () => Promise.reject(Object.assign(new Error('ENXIO: no device'), { code: 'ENXIO' }));
  return {
    async readI2cBlock(address, command, length, buffer) {
      if (address !== 0x18 || registers[command] === undefined) return nack();
      buffer.writeUInt16BE(registers[command]!, 0);
      return { bytesRead: length, buffer };
    },
    i2cRead: nack,
    i2cWrite: nack,
    writeByte: nack,
    scan: async () => [0x18],
    close: async () => undefined,
  };
}

describe('sensor check', () => {
  it('finds the chip on the bus and takes one reading', async () => {
    const found = await sensorCheck.run(context({ sensor: { driver: 'auto' } }, { openBus: async () => mcp9808Bus() }));
    expect(found).toEqual({ status: 'pass', message: 'mcp9808 at 0x18 on /dev/i2c-1: mcp9808@0x18 reads 21.50 °C' });
  });

  it('names what it found when it is not the configured chip, and what to do when nothing answers', async () => {
    const wrong = await sensorCheck.run(context({ sensor: { driver: 'bme280' } }, { openBus: async () => mcp9808Bus() }));
    expect(wrong.status).toBe('fail');
    expect(wrong.message).toMatch(/^no bme280 answers on \/dev\/i2c-1 at .* \(found: mcp9808 at 0x18\)$/);
    const silent: I2CBus = { ...mcp9808Bus(), readI2cBlock: () => Promise.reject(Object.assign(new Error('ENXIO'), { code: 'ENXIO' })) };
    const nothing = await sensorCheck.run(context({ sensor: { driver: 'auto' } }, { openBus: async () => silent }));
    expect(nothing.message).toMatch(/^no known sensor answers on \/dev\/i2c-1/);
    expect(nothing.hint).toContain('i2cdetect');
  });

  it('explains a bus that cannot be opened', async () => {
    const closed = await sensorCheck.run(context({ sensor: { driver: 'mcp9808' } }));
    expect(closed).toMatchObject({ status: 'fail', message: 'cannot open /dev/i2c-1: ENOENT' });
    expect(closed.hint).toContain('raspi-config');
  });

  it('reads the CPU thermal zone and passes with no sensor configured', async () => {
    const thermal = fresh('thermal');
    mkdirSync(join(thermal, 'thermal_zone0'));
    writeFileSync(join(thermal, 'thermal_zone0', 'type'), 'cpu-thermal\n');
    writeFileSync(join(thermal, 'thermal_zone0', 'temp'), '48312\n');
    const cpu = await sensorCheck.run(context({ sensor: { driver: 'cpu' } }, { sysfs: { gpio: dir, w1: dir, thermal } }));
    expect(cpu).toEqual({ status: 'pass', message: 'cpu reads 48.31 °C' });
    expect((await sensorCheck.run(context({ sensor: { driver: 'none' } }))).status).toBe('pass');
  });
});

describe('camera check', () => {
  it('captures one frame through a fake rpicam-vid on PATH', async () => {
    const bin = fresh('fake-bin');
    const program = join(bin, 'rpicam-vid');
    writeFileSync(program, `#!/bin/sh\nwhile true; do cat '${fixture('images/bus.jpg')}'; sleep 0.2; done\n`);
    chmodSync(program, 0o755);
    const result = await cameraCheck.run(context({ camera: { driver: 'rpicam', format: 'mjpeg' } }, { env: { PATH: `${bin}:/usr/bin:/bin` } }));
    expect(result.status).toBe('pass');
    expect(result.message).toMatch(new RegExp(`^${program}: captured a 554x740 JPEG frame \\(157 KB\\) in \\d+ ms$`));
  });

  it('fails when the program is missing or gives no frame', async () => {
    const missing = await cameraCheck.run(context({ camera: { driver: 'rpicam' } }));
    expect(missing).toEqual({ status: 'fail', message: 'rpicam-vid or libcamera-vid not found on PATH', hint: 'sudo apt install rpicam-apps' });
    const bin = fresh('broken-bin');
    writeFileSync(join(bin, 'rpicam-vid'), '#!/bin/sh\necho "ERROR: *** no cameras available ***" >&2\nexit 1\n');
    chmodSync(join(bin, 'rpicam-vid'), 0o755);
    const broken = await cameraCheck.run(context({ camera: { driver: 'rpicam' } }, { env: { PATH: `${bin}:/usr/bin:/bin` }, timeoutMs: 1_500 }));
    expect(broken.status).toBe('fail');
    expect(broken.message).toMatch(/no frame within 1\.5 s/);
  });

  it('looks for the still programs in the still driver\'s order: rpicam-still before libcamera-still', async () => {
    const fakes = await fakePath(['libcamera-still', 'rpicam-still']);
    try {
      const result = await cameraCheck.run(context({ camera: { driver: 'still' } }, { env: { PATH: fakes.dir } }));
      expect(result.message.startsWith(`${join(fakes.dir, 'rpicam-still')}: `)).toBe(true);
      const missing = await cameraCheck.run(context({ camera: { driver: 'still' } }));
      expect(missing).toMatchObject({ status: 'fail', message: 'rpicam-still or libcamera-still not found on PATH' });
    } finally {
      await fakes.cleanup();
    }
  });

  it('replays a folder, and passes with the camera off', async () => {
    const images = fresh('images');
    copyFileSync(fixture('images/dog.jpg'), join(images, 'dog.jpg'));
    const replay = await cameraCheck.run(context({ camera: { driver: 'dir', dir: images } }));
    expect(replay.status).toBe('pass');
    expect(replay.message).toMatch(/^captured a \d+x\d+ JPEG/);
    expect((await cameraCheck.run(context({ camera: { driver: 'none' } }))).message).toBe('no camera configured (intruder detection is off)');
  });

  it('captures from each camera of cameras, naming each, and fails for the one that gives no frame', async () => {
    const images = fresh('images-front');
    copyFileSync(fixture('images/dog.jpg'), join(images, 'dog.jpg'));
    const entry = (dir: string) => ({ ...defaultConfig().camera, driver: 'dir' as const, dir, zones: [], required_zones: [], masks: [], motion_masks: [], alarm_zones: [], filters: { default: {}, person: {}, dog: {}, cat: {}, bear: {} } });
    const both = await cameraCheck.run(context({ cameras: { front: entry(images), back: entry(images) } as unknown as AgentConfig['cameras'] }));
    expect(both.status).toBe('pass');
    expect(both.message).toMatch(/^front: captured a \d+x\d+ JPEG .*; back: captured a \d+x\d+ JPEG/);
    const empty = fresh('images-empty');
    const one = await cameraCheck.run(context({ cameras: { front: entry(images), back: entry(empty) } as unknown as AgentConfig['cameras'] }, { timeoutMs: 1_000 }));
    expect(one.status).toBe('fail');
    expect(one.message).toMatch(/^front: captured .*; back: /);
    expect(one.hint).toMatch(/^back: /);
  });
});

describe('model checks', () => {
  it('loads the configured intruder model and the shipped forecaster', async () => {
    const intruder = await intruderModelCheck.run(context({ intruder: { model: fixture('models/yolov8n-int8.onnx') } }));
    expect(intruder.status).toBe('pass');
    expect(intruder.message).toMatch(/\(intruder\.model\), loads in \d+ ms$/);
    const forecast = await forecastModelCheck.run(context({ data_dir: fresh('empty-data') }));
    expect(forecast.status).toBe('pass');
    expect(forecast.message).toMatch(/\(shipped\), loads in \d+ ms$/);
  });

  it('fails without an intruder model, and for a file that is not a model', async () => {
    const none = await intruderModelCheck.run(context({ data_dir: fresh('no-models'), camera: { driver: 'rpicam' } }));
    expect(none).toMatchObject({ status: 'fail', message: 'no intruder model configured or installed' });
    const noCamera = await intruderModelCheck.run(context({ data_dir: fresh('no-models'), camera: { driver: 'none' } }));
    expect(noCamera).toMatchObject({ status: 'warn', message: 'no intruder model configured or installed (POST /v1/intruders answers 503)' });
    const bogus = join(dir, 'bogus.onnx');
    writeFileSync(bogus, 'not a model');
    const broken = await intruderModelCheck.run(context({ intruder: { model: bogus } }));
    expect(broken.status).toBe('fail');
    expect(broken.message).toContain(`${bogus} (intruder.model) does not load`);
  });

  it('checks the registry\'s active model against its manifest', async () => {
    const dataDir = fresh('registry-data');
    const registry = new ModelRegistry({ dataDir, keepVersions: 3 });
    const temp = await registry.newTempFile();
    copyFileSync(fixture('models/yolov8n-int8.onnx'), temp);
    const { sha256, size } = await hashFile(temp);
    const installed = await registry.install('intruder', temp, { name: 'yolov8n', version: '8.1', sha256, size, source: 'file:///test' });
    await registry.activate('intruder', '8.1');
    const good = await intruderModelCheck.run(context({ data_dir: dataDir }));
    expect(good.status).toBe('pass');
    expect(good.message).toContain('(registry 8.1, sha256 matches its manifest)');
    appendFileSync(installed.path, Buffer.from([0]));
    const damaged = await intruderModelCheck.run(context({ data_dir: dataDir }));
    expect(damaged.status).toBe('fail');
    expect(damaged.message).toContain('does not match its manifest');
    expect(damaged.hint).toContain('edge-agent models rollback intruder');
  });

  it('warns when the registry\'s pointer cannot be used, naming what the agent serves instead', async () => {
    const dataDir = fresh('broken-pointer');
    mkdirSync(join(dataDir, 'models', 'forecast', 'active'), { recursive: true });
    const folder = await forecastModelCheck.run(context({ data_dir: dataDir }));
    expect(folder).toMatchObject({ status: 'warn', message: `${join(dataDir, 'models', 'forecast', 'active')}: it is a folder, not the pointer file; the agent serves shipped instead` });
    expect(folder.hint).toContain('edge-agent models activate forecast <version>');
    rmSync(join(dataDir, 'models', 'forecast', 'active'), { recursive: true });
    writeFileSync(join(dataDir, 'models', 'forecast', 'active'), JSON.stringify({ version: '7', activated_at: 'x', previous: [] }));
    const gone = await forecastModelCheck.run(context({ data_dir: dataDir }));
    expect(gone).toMatchObject({ status: 'warn', message: expect.stringMatching(/active names version 7, which is not installed .*; the agent serves shipped instead$/) });
  });
});

describe('model updates check', () => {
  it('passes when remote updates must be signed or are refused, and warns when they are accepted unsigned', async () => {
    const pem = '-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----';
    expect(await updatesCheck.run(context())).toEqual({
      status: 'pass',
      message: 'remote updates are refused: no ota.public_key to check their signatures (local installs with edge-agent models work)',
    });
    expect(await updatesCheck.run(context({ ota: { public_key: pem } }))).toEqual({ status: 'pass', message: 'every update must be signed with the key of ota.public_key' });
    expect((await updatesCheck.run(context({ ota: { public_key: pem, allow_unsigned_remote_updates: true } }))).message).toContain('has no effect while a key is set');
    const open = await updatesCheck.run(context({ device_id: 'pi-9', ota: { allow_unsigned_remote_updates: true } }));
    expect(open).toMatchObject({
      status: 'warn',
      message: 'remote updates are accepted unsigned (ota.allow_unsigned_remote_updates): anyone who can publish to edge/pi-9/cmd/model-update can replace the models',
    });
    expect(open.hint).toContain('set ota.public_key');
  });
});

describe('broker check', () => {
  let plain: Mosquitto;
  let tls: Mosquitto;
  beforeAll(async () => {
    [plain, tls] = await Promise.all([Mosquitto.start(), Mosquitto.start({ tls: true })]);
  });
  afterAll(async () => {
    await Promise.all([plain?.dispose(), tls?.dispose()]);
  });

  it('connects to a plain broker on this machine', async () => {
    const result = await brokerCheck.run(context({ mqtt: { url: plain.url } }));
    expect(result).toEqual({ status: 'pass', message: `${plain.url}: connected (plain MQTT on this machine)` });
  });

  it('connects over TLS with the configured CA and client certificate, and says why it cannot without the CA', async () => {
    const client = tls.tls!.client('edge-pi');
    const mqtt = { url: tls.url, ca: tls.tls!.ca, cert: client.cert, key: client.key };
    expect(await brokerCheck.run(context({ mqtt }))).toEqual({ status: 'pass', message: `${tls.url}: connected over TLS, certificate verified` });
    const untrusted = await brokerCheck.run(context({ mqtt: { ...mqtt, ca: null } }));
    expect(untrusted.status).toBe('fail');
    expect(untrusted.message).toMatch(new RegExp(`^${tls.url}: the broker's certificate is not trusted \\(\\w+\\)$`));
    expect(untrusted.hint).toBe('set mqtt.ca to the CA that signed it');
  });

  it('with several brokers (failover) checks each, and the worst result counts', async () => {
    const dead = `mqtt://127.0.0.1:${await freePort()}`;
    const result = await brokerCheck.run(context({ mqtt: { url: [plain.url, dead] } }));
    expect(result).toEqual({
      status: 'fail',
      message: `${plain.url}: connected (plain MQTT on this machine); ${dead}: connection refused: no broker is listening there`,
      hint: 'start the broker, or fix mqtt.url',
    });
  });

  it('fails (optionally) when nothing listens, and only warns about a stopped embedded broker', async () => {
    const port = plain.port;
    await plain.stop();
    const refused = await brokerCheck.run(context({ mqtt: { url: `mqtt://127.0.0.1:${port}`, embedded_broker: { enabled: false, host: '127.0.0.1', port } } }));
    expect(refused.status).toBe('fail');
    expect(refused.message).toBe(`mqtt://127.0.0.1:${port}: connection refused: no broker is listening there`);
    expect(refused.hint).toBe('start the broker, or fix mqtt.url');
    expect(brokerCheck.required).toBe(false);
    const embedded = await brokerCheck.run(context({ mqtt: { url: `mqtt://127.0.0.1:${port}`, embedded_broker: { enabled: true, host: '127.0.0.1', port } } }));
    expect(embedded.status).toBe('warn');
    expect(embedded.message).toContain('the embedded broker is not running');
    await plain.resume();
  });
});
