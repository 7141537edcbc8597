import { describe, expect, it } from 'vitest';
import { defineCommand, type Command } from '../../agent/commands/command.js';
import { exitStatusOf } from '../../agent/commands/exit-status.js';
import { command as detect } from '../../agent/commands/detect.js';
import { command as run } from '../../agent/commands/run.js';
import { command as sensor } from '../../agent/commands/sensor.js';
import { ConfigError, defaultConfig } from '../../agent/config/load.js';
import { CliError, UsageError } from '../../agent/lib/exit-codes.js';
import { OtaError } from '../../agent/ota/errors.js';
import { AlarmConfigError } from '../../drivers/gpio/index.js';
import { CameraConfigError, CameraInputError, CameraUnavailableError } from '../../drivers/camera/index.js';
import { SensorConfigError, SensorNotFoundError } from '../../drivers/sensors/index.js';
import { InvalidInputError, ModelLoadError } from '../../models/errors.js';
import { edgeAgent, runInProcess } from '../helpers/cli.js';

const COMMANDS = ['run', 'detect', 'forecast', 'capture', 'sensor', 'models', 'doctor'];

describe('edge-agent CLI', () => {
  it('lists its commands and exits 2 when none is given', async () => {
    const result = await edgeAgent([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/usage: edge-agent \[--verbose\] <command>/);
    for (const name of COMMANDS) {
      expect(result.stdout).toContain(`  ${name}`);
    }
  });

  it('rejects an unknown command with exit status 2 and one line naming it', async () => {
    const result = await edgeAgent(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe("edge-agent: unknown command 'frobnicate'");
  });

  it('prints the usage of every command with --help, exit 0', async () => {
    const results = await Promise.all(COMMANDS.map((name) => edgeAgent([name, '--help'])));
    COMMANDS.forEach((name, i) => {
      const result = results[i]!;
      expect(result, name).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout, name).toMatch(new RegExp(`^usage: edge-agent ${name} `));
      expect(result.stdout, `${name} says what --verbose adds`).toMatch(/^ +--verbose +\S/m);
    });
    expect(await edgeAgent(['models', '-h'])).toEqual({ code: 0, stdout: results[COMMANDS.indexOf('models')]!.stdout, stderr: '' });
  });

  it('rejects an unknown option of every command with exit status 2 and one line naming the command once', async () => {
    const results = await Promise.all(COMMANDS.map((name) => edgeAgent([name, '--frobnicate'])));
    COMMANDS.forEach((name, i) => {
      const result = results[i]!;
      expect(result.code, name).toBe(2);
      expect(result.stdout, name).toBe('');
      expect(result.stderr, name).toMatch(new RegExp(`^edge-agent ${name}: Unknown option '--frobnicate'\\. [^\\n]*\\n$`));
    });
  });

  it('adds the stack trace with --verbose, before or after the command name, and only then', async () => {
    const args = ['forecast', '--model', '/nonexistent/model.onnx', '--values', '1'];
    const [plain, after, before] = await Promise.all([edgeAgent(args), edgeAgent([...args, '--verbose']), edgeAgent(['--verbose', ...args])]);
    const line = 'edge-agent forecast: /nonexistent/model.onnx: cannot read the model file: no such file\n';
    expect(plain).toEqual({ code: 66, stdout: '', stderr: line });
    for (const verbose of [after, before]) {
      expect(verbose.code).toBe(66);
      expect(verbose.stderr.startsWith(line)).toBe(true);
      expect(verbose.stderr.slice(line.length)).toMatch(/^ModelLoadError: .*\n\s+at /);
    }
  });
});

describe('the CLI definition', () => {
  const failing = (err: unknown): Command => defineCommand({ usage: () => 'usage: edge-agent t', options: {}, run: () => Promise.reject(err) });

  it('maps each error class to its exit status in one table', () => {
    const cases: Array<[unknown, number]> = [
      [new UsageError('x'), 2],
      [new CliError('x', 69), 69],
      [new ConfigError([{ path: 'mqtt.url', message: 'must start with mqtt://' }]), 78],
      [new OtaError('checksum_mismatch', 'x'), 65],
      [new OtaError('not_found', 'x'), 66],
      [new OtaError('http_error', 'x'), 69],
      [new OtaError('install_failed', 'x'), 74],
      [new OtaError('invalid_request', 'x'), 2],
      [new ModelLoadError('/m.onnx', 'x'), 66],
      [new InvalidInputError('x'), 65],
      [new CameraConfigError('x'), 2],
      [new CameraInputError('x'), 66],
      [new CameraUnavailableError('x'), 69],
      [new SensorConfigError('x'), 2],
      [new SensorConfigError('x', 'ENOENT'), 66],
      [new SensorNotFoundError('x'), 69],
      [new AlarmConfigError('x'), 78],
      [new TypeError('a bug'), 70],
      ['not even an Error', 70],
    ];
    for (const [err, status] of cases) expect(exitStatusOf(err), String(err)).toBe(status);
  });

  it('prints a thrown error as one line naming the command, with its status', async () => {
    const problems = [{ path: 'camera.fps', message: 'must be a number' }];
    expect(await runInProcess('t', failing(new CameraUnavailableError('no rpicam-vid')), [])).toEqual({ code: 69, stdout: '', stderr: 'edge-agent t: no rpicam-vid\n' });
    expect(await runInProcess('t', failing(new ConfigError(problems)), [])).toMatchObject({ code: 78, stderr: 'edge-agent t: invalid configuration (1 problem):\n  - camera.fps: must be a number\n' });
    const verbose = await runInProcess('t', failing(new TypeError('a bug')), ['--verbose']);
    expect(verbose.code).toBe(70);
    expect(verbose.stderr).toMatch(/^edge-agent t: a bug\nTypeError: a bug\n\s+at /);
  });

  it('checks positional arguments: none, one or more, and sub-commands with their own', async () => {
    const plain = defineCommand({ usage: () => 'usage', options: {}, run: async ({ args }) => args.length });
    const images = defineCommand({ usage: () => 'usage', options: {}, args: ['IMAGE...'], run: async ({ args }) => args.length });
    const actions = defineCommand({
      usage: () => 'usage',
      options: {},
      actions: { list: [], install: ['role', 'source'] },
      run: async ({ action, args }) => (action === 'install' ? args.length : 0),
    });
    expect(await runInProcess('p', plain, ['extra'])).toMatchObject({ code: 2, stderr: 'edge-agent p: unexpected argument "extra"\n' });
    expect(await runInProcess('d', images, [])).toMatchObject({ code: 2, stderr: 'edge-agent d: no IMAGE given (see edge-agent d --help)\n' });
    expect(await runInProcess('d', images, ['a', 'b', 'c'])).toMatchObject({ code: 3 });
    expect(await runInProcess('m', actions, [])).toMatchObject({ code: 2, stderr: 'edge-agent m: no command given (expected list or install; see edge-agent m --help)\n' });
    expect(await runInProcess('m', actions, ['frob'])).toMatchObject({ code: 2, stderr: "edge-agent m: unknown command 'frob' (expected list or install)\n" });
    expect(await runInProcess('m', actions, ['install', 'intruder'])).toMatchObject({ code: 2, stderr: 'edge-agent m install: no source given (see edge-agent m --help)\n' });
    expect(await runInProcess('m', actions, ['list', 'x'])).toMatchObject({ code: 2, stderr: 'edge-agent m list: unexpected argument "x"\n' });
    expect(await runInProcess('m', actions, ['install', 'intruder', 'file:///m.onnx'])).toMatchObject({ code: 2, stderr: '' });
  });

  it("shows the configuration schema's defaults in the usage of config-backed options", async () => {
    const defaults = defaultConfig();
    const help = async (name: string, command: Command) => (await runInProcess(name, command, ['--help'])).stdout;
    const sensorHelp = await help('sensor', sensor);
    expect(sensorHelp).toMatch(new RegExp(`--interval S +seconds between readings \\(default ${defaults.sensor.interval_s}\\)`));
    expect(sensorHelp).toMatch(new RegExp(`--speed X .*\\(default ${defaults.sensor.speed}\\)`));
    expect(sensorHelp).toMatch(new RegExp(`--bus N .*\\(default ${defaults.sensor.bus}\\)`));
    const detectHelp = await help('detect', detect);
    expect(detectHelp).toContain(`(default ${defaults.data_dir})`);
    expect(detectHelp).toMatch(new RegExp(`--threshold T .*\\(default ${defaults.intruder.threshold}\\)`));
    expect(detectHelp).toContain(`(default ${defaults.intruder.classes.join(',')})`);
    expect(await help('run', run)).toContain(`(mqtt.url, default ${defaults.mqtt.url})`);
  });
});
