import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { sensorCommand, type SensorHardware } from '../../agent/commands/sensor.js';
import { defaultConfig } from '../../agent/config/load.js';
import { ExitCode } from '../../agent/lib/exit-codes.js';
import { FakeBme280 } from '../fakes/i2c/bme280.js';
import { FakeI2CHardware, VirtualClock, type FakeChip } from '../fakes/i2c/fake-bus.js';
import { FakeMcp9808 } from '../fakes/i2c/mcp9808.js';
import { FakeSht3x } from '../fakes/i2c/sensirion.js';
import { createThermalTree, FakeW1Tree } from '../fakes/sysfs-sensors.js';
import { edgeAgent, runInProcess } from '../helpers/cli.js';
import { fixture } from '../helpers/fixtures.js';

/** A chip nobody knows: answers every read with 0xFF (an LCD backpack at 0x27, say). */
const unknownChip: FakeChip = { write: () => undefined, read: (n) => Buffer.alloc(n, 0xff) };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/** Runs `edge-agent sensor ...` in-process against fake hardware; collects output lines and waits. */
async function sensor(argv: string[], hardware = new FakeI2CHardware(1), extra: Partial<SensorHardware> = {}) {
  const w1 = await FakeW1Tree.create();
  cleanups.push(() => w1.dispose());
  const clock = new VirtualClock();
  const sleeps: number[] = [];
  const machine: SensorHardware = {
    openBus: hardware.open,
    w1Root: w1.root,
    thermalRoot: '/nonexistent/thermal',
    clock: clock.clock,
    sleep: (ms) => {
      sleeps.push(ms);
      return clock.sleep(ms);
    },
    ...extra,
  };
  const { code, stdout, stderr } = await runInProcess('sensor', sensorCommand(machine), argv);
  const out = stdout.split('\n').filter((line) => line !== '');
  return { code, out, stderr, json: () => out.map((l) => JSON.parse(l) as Record<string, unknown>), sleeps, w1 };
}

describe('edge-agent sensor scan', () => {
  it('lists known chips, other devices, DS18B20s and the CPU zone as JSON lines', async () => {
    const clock = new VirtualClock();
    const hardware = new FakeI2CHardware(1).attach(0x76, new FakeBme280(clock)).attach(0x44, new FakeSht3x(clock)).attach(0x27, unknownChip);
    const w1 = await FakeW1Tree.create();
    cleanups.push(() => w1.dispose());
    await w1.setTemperature('28-0000075a1b2c', 20);
    const thermal = await createThermalTree([{ type: 'cpu-thermal', temp: '45000' }]);
    cleanups.push(() => rm(thermal, { recursive: true, force: true }));
    const result = await sensor(['scan'], hardware, { w1Root: w1.root, thermalRoot: thermal, clock: clock.clock, sleep: clock.sleep });
    expect(result.code).toBe(ExitCode.OK);
    expect(result.json()).toEqual([
      { driver: 'sht3x', bus: 1, address: '0x44' },
      { driver: 'bme280', bus: 1, address: '0x76' },
      { driver: null, bus: 1, address: '0x27' },
      { driver: 'ds18b20', device: '28-0000075a1b2c' },
      { driver: 'cpu', zone: 'thermal_zone0', type: 'cpu-thermal' },
    ]);
  });

  it('exits 69 when it finds no sensor, after saying why the bus could not be used', async () => {
    const result = await sensor(['scan', '--bus', '4']);
    expect(result.code).toBe(ExitCode.UNAVAILABLE);
    const [warning, error, ...rest] = result.stderr.split('\n');
    expect(warning).toBe("edge-agent sensor scan: ENOENT, No such file or directory (open '/dev/i2c-4')");
    expect(error).toMatch(/^edge-agent sensor scan: no temperature sensor found on \/dev\/i2c-4 or under /);
    expect(rest).toEqual(['']);
  });
});

describe('edge-agent sensor read', () => {
  it('prints --count readings as JSON lines, --interval apart', async () => {
    const chip = new FakeMcp9808();
    chip.celsius = 23.5625;
    const result = await sensor(['read', '--driver', 'mcp9808', '--count', '3', '--interval', '2.5'], new FakeI2CHardware(1).attach(0x18, chip));
    expect(result.code).toBe(ExitCode.OK);
    expect(result.json()).toEqual([0, 2500, 5000].map((offset) => ({ ts: new Date(new VirtualClock().now + offset).toISOString(), sensor: 'mcp9808@0x18', valid: true, celsius: 23.5625 })));
    expect(result.sleeps).toEqual([2500, 2500]);
  });

  it("reads the configuration's sensor.interval_s apart when no --interval is given", async () => {
    const result = await sensor(['read', '--driver', 'mcp9808', '--count', '2'], new FakeI2CHardware(1).attach(0x18, new FakeMcp9808()));
    expect(result.code).toBe(ExitCode.OK);
    expect(result.sleeps).toEqual([defaultConfig().sensor.interval_s * 1000]);
  });

  it('auto-detects by default, at the given address', async () => {
    const hardware = new FakeI2CHardware(1).attach(0x19, new FakeMcp9808()).attach(0x18, new FakeMcp9808());
    const result = await sensor(['read', '--address', '0x19'], hardware);
    expect(result.json()).toMatchObject([{ sensor: 'mcp9808@0x19', valid: true }]);
  });

  it('exits 1 when a reading is invalid, printing its error', async () => {
    const result = await sensor(['read', '--driver', 'bme280', '--address', '118']);
    expect(result.code).toBe(ExitCode.FAILURE);
    expect(result.json()).toEqual([{ ts: expect.any(String), sensor: 'bme280@0x76', valid: false, error: expect.stringMatching(/^EREMOTEIO.*after 3 attempts/) }]);
  });

  it('replays a CSV file at its own pace and timestamps', async () => {
    const result = await sensor(['read', '--driver', 'replay', '--file', fixture('data/occupancy/datatest.txt'), '--count', '2', '--speed', '60']);
    expect(result.json()).toEqual([
      { ts: '2015-02-02T14:19:00.000Z', sensor: 'replay:datatest.txt', valid: true, celsius: 23.7 },
      { ts: '2015-02-02T14:19:59.000Z', sensor: 'replay:datatest.txt', valid: true, celsius: 23.718 },
    ]);
    expect(result.sleeps).toHaveLength(1);
    expect(result.sleeps[0]).toBeCloseTo(59_000 / 60, 3);
  });

  it.each<[string, string[], number, RegExp]>([
    ['no action', [], ExitCode.USAGE, /^no command given \(expected scan or read; see edge-agent sensor --help\)$/],
    ['an unknown action', ['frob'], ExitCode.USAGE, /^unknown command 'frob' \(expected scan or read\)$/],
    ['an unknown driver', ['read', '--driver', 'lm75'], ExitCode.USAGE, /--driver: "lm75" is not one of auto, bme280/],
    ['an address out of range', ['read', '--address', '0x80'], ExitCode.USAGE, /--address: "0x80" is not an I2C address/],
    ['a count of 0', ['read', '--count', '0'], ExitCode.USAGE, /--count: invalid value "0"/],
    ['read options on scan', ['scan', '--driver', 'sim'], ExitCode.USAGE, /--driver only applies to sensor read/],
    ['a bad DS18B20 id', ['read', '--driver', 'ds18b20', '--device', '29-1'], ExitCode.USAGE, /is not a DS18B20 id/],
    ['a missing replay file', ['read', '--driver', 'replay', '--file', '/nonexistent.csv'], ExitCode.NO_INPUT, /replay file \/nonexistent.csv: no such file/],
    ['nothing to auto-detect', ['read'], ExitCode.UNAVAILABLE, /^no temperature sensor found/],
  ])('rejects %s', async (_what, argv, exitCode, message) => {
    const { code, out, stderr } = await sensor(argv);
    expect(code).toBe(exitCode);
    expect(out).toEqual([]);
    // One line naming the command (and its action, once known).
    const [line, ...rest] = stderr.split('\n');
    expect(rest).toEqual(['']);
    const prefix = argv[0] === 'scan' || argv[0] === 'read' ? `edge-agent sensor ${argv[0]}: ` : 'edge-agent sensor: ';
    expect(line!.startsWith(prefix), line).toBe(true);
    expect(line!.slice(prefix.length)).toMatch(message);
  });

  it('lists every driver in --help', async () => {
    const result = await sensor(['--help']);
    expect(result.code).toBe(ExitCode.OK);
    for (const driver of ['auto', 'bme280', 'bmp280', 'sht3x', 'sht4x', 'mcp9808', 'tmp117', 'tmp102', 'aht20', 'ds18b20', 'cpu', 'replay', 'sim']) {
      expect(result.out.join('\n')).toMatch(new RegExp(`^ +${driver} `, 'm'));
    }
  });
});

describe('edge-agent sensor (compiled CLI)', () => {
  const sensorCli = (...args: string[]) => edgeAgent(['sensor', ...args]);

  it('replays readings from a file', async () => {
    const result = await sensorCli('read', '--driver', 'replay', '--file', fixture('data/occupancy/datatest.txt'), '--count', '3', '--speed', '6000');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.trim().split('\n').map((l) => JSON.parse(l).celsius)).toEqual([23.7, 23.718, 23.73]);
  });

  it('reports a missing I2C bus in one line', async () => {
    const result = await sensorCli('scan', '--bus', '99');
    expect(result.stderr.split('\n')[0]).toMatch(/^edge-agent sensor scan: cannot open \/dev\/i2c-99: ENOENT/);
  });

  it('exits 2 with one line for a bad option', async () => {
    const result = await sensorCli('read', '--driver', 'none');
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(/^edge-agent sensor read: --driver: "none" is not one of auto, /);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('checks --interval, --speed and --bus against the configuration keys they stand for', async () => {
    const [interval, speed, bus] = await Promise.all([
      sensorCli('read', '--driver', 'sim', '--count', '2', '--interval', '3000000'),
      sensorCli('read', '--driver', 'sim', '--speed', '0.000001'),
      sensorCli('scan', '--bus', '1000'),
    ]);
    // An interval past Node's timer limit once meant a reading every millisecond.
    expect(interval).toMatchObject({ code: 2, stdout: '', stderr: 'edge-agent sensor read: --interval: must be <= 86400 (sensor.interval_s), got "3000000"\n' });
    expect(speed).toMatchObject({ code: 2, stderr: 'edge-agent sensor read: --speed: must be >= 0.01 (sensor.speed), got "0.000001"\n' });
    expect(bus).toMatchObject({ code: 2, stderr: 'edge-agent sensor scan: --bus: must be <= 99 (sensor.bus), got "1000"\n' });
  });
});
