import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelServer } from '../ota/model-server.js';
import { TestPki } from '../helpers/pki.js';
import { edgeAgent, runScript } from '../helpers/cli.js';
import { intruderModel, intruderModelPath, sha256 } from '../ota/harness.js';
import { shippedModelPath } from '../../agent/lib/paths.js';

const sha = sha256(intruderModel);
const forecasterPath = shippedModelPath('temperature-forecast.onnx');
const forecasterSha = sha256(readFileSync(forecasterPath));
const models = (...args: string[]) => edgeAgent(['models', ...args]);
const signModel = (...args: string[]) => runScript('scripts/sign-model.js', args);
let pki: TestPki;
let server: ModelServer;
let dir: string;
let config: string;

beforeAll(async () => {
  pki = TestPki.create();
  server = await ModelServer.start(pki.server());
  dir = mkdtempSync(join(tmpdir(), 'models-cli-'));
  config = join(dir, 'config.yaml');
  writeFileSync(config, `data_dir: ${join(dir, 'data')}\nintruder:\n  threads: 1\nota:\n  ca: ${pki.ca}\n`);
});

afterAll(async () => {
  await server?.close();
  pki?.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('edge-agent models', () => {
  it('installs a local file, lists it, activates it, installs over https and rolls back', async () => {
    const installed = await models('install', 'intruder', intruderModelPath, '--sha256', sha.toUpperCase(), '--config', config);
    expect(installed.stderr).toBe('downloading...\nverifying...\ninstalling...\nvalidating...\n');
    expect(installed, installed.stderr).toMatchObject({ code: 0 });
    const version = sha.slice(0, 12);
    expect(installed.stdout).toBe(
      `installed intruder yolov8n-int8 ${version} (3.3 MB); activate it with: edge-agent models activate intruder ${version}\n`,
    );

    const activated = await models('activate', 'intruder', version, '--config', config);
    expect(activated, activated.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining(`active intruder model: yolov8n-int8 ${version}`) });

    const url = server.route('/releases/garage-v2.onnx', { kind: 'file', body: intruderModel });
    const fromHttps = await models('install', 'intruder', url, '--sha256', sha, '--version', '2.0.0', '--activate', '--config', config);
    expect(fromHttps.stderr).toContain('activating...');
    expect(fromHttps, fromHttps.stderr).toMatchObject({ code: 0, stdout: 'active intruder model: garage-v2 2.0.0 (a running agent serves it within seconds)\n' });

    const table = await models('list', '--config', config);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s+ROLE\s+VERSION\s+NAME\s+SIZE\s+INSTALLED\s+SOURCE$/);
    expect(lines[1]).toMatch(/^\*\s+intruder\s+2\.0\.0\s+garage-v2\s+3\.3 MB\s+\S+Z\s+https:\/\/127\.0\.0\.1:\d+\/releases\/garage-v2\.onnx$/);
    expect(lines[2]).toMatch(new RegExp(`^\\s+intruder\\s+${version}\\s+yolov8n-int8\\s+3\\.3 MB\\s+\\S+Z\\s+file://`));

    const rolledBack = await models('rollback', 'intruder', '--config', config);
    expect(rolledBack, rolledBack.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining(`active intruder model: yolov8n-int8 ${version}`) });

    // A configuration that names a model file keeps it in use: the activation says so instead of promising a swap.
    const pinned = join(dir, 'pinned.yaml');
    writeFileSync(pinned, `data_dir: ${join(dir, 'data')}\nintruder:\n  threads: 1\n  model: ${intruderModelPath}\nota:\n  ca: ${pki.ca}\n`);
    const activatedPinned = await models('activate', 'intruder', '2.0.0', '--config', pinned);
    expect(activatedPinned, activatedPinned.stderr).toMatchObject({
      code: 0,
      stdout: `active intruder model: garage-v2 2.0.0 (a running agent keeps serving intruder.model (${intruderModelPath}) while the configuration names it)\n`,
    });
    expect((await models('rollback', 'intruder', '--config', config)).code).toBe(0);
    const json = JSON.parse((await models('list', '--json', '--config', config)).stdout) as { version: string; active: boolean; sha256: string }[];
    expect(json.map((m) => [m.version, m.active, m.sha256])).toEqual([['2.0.0', false, sha], [version, true, sha]]);
    // Seven CLI runs, each loading onnxruntime and validating a 3 MB model: over 30 s on a loaded 2-core machine.
  }, 180_000);

  it.each([
    { why: 'no --sha256', args: ['install', 'intruder', 'file:///m.onnx'], code: 2, line: 'edge-agent models install: --sha256 is required (the sha256 of the model file)' },
    { why: 'a malformed sha256', args: ['install', 'intruder', 'file:///m.onnx', '--sha256', 'xyz'], code: 2, line: 'edge-agent models install: sha256 must be 64 hexadecimal characters, got "xyz"' },
    { why: 'an unknown role', args: ['install', 'camera', 'file:///m.onnx', '--sha256', 'a'.repeat(64)], code: 2, line: 'edge-agent models install: unknown model role "camera" (expected intruder or forecast)' },
    { why: 'a missing file', args: ['install', 'intruder', '/nonexistent/m.onnx', '--sha256', 'a'.repeat(64)], code: 66, line: 'edge-agent models install: cannot read /nonexistent/m.onnx: no such file' },
    { why: 'a wrong checksum', args: ['install', 'intruder', intruderModelPath, '--sha256', 'a'.repeat(64)], code: 65, line: `edge-agent models install: sha256 mismatch: expected ${'a'.repeat(64)}, the downloaded file has ${sha}` },
    { why: 'an unknown command', args: ['frob'], code: 2, line: "edge-agent models: unknown command 'frob' (expected list, install, activate or rollback)" },
    { why: 'a missing argument', args: ['activate', 'forecast'], code: 2, line: 'edge-agent models activate: no version given (see edge-agent models --help)' },
    { why: 'an unknown version', args: ['activate', 'forecast', '9'], code: 2, line: 'edge-agent models activate: forecast version 9 is not installed' },
    { why: 'nothing to roll back to', args: ['rollback', 'forecast'], code: 2, line: 'edge-agent models rollback: no previous forecast version to roll back to' },
    {
      why: 'a model name with a newline',
      args: ['install', 'forecast', forecasterPath, '--sha256', forecasterSha, '--name', 'two\nlines'],
      code: 2,
      line: `edge-agent models install: invalid model name "two\\nlines": use 1-128 printable characters, without '/' or '\\'`,
    },
  ])('refuses $why with one line naming the command once, and exit status $code', async ({ args, code, line }) => {
    const result = await models(...args, '--config', config);
    expect(result.code, result.stderr).toBe(code);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(line);
  });

  it("refuses the version name 'active' (the pointer's own name), and the role can still be activated after", async () => {
    const data = join(dir, 'active-data');
    const install = (version: string) => models('install', 'forecast', forecasterPath, '--sha256', forecasterSha, '--version', version, '--activate', '--data-dir', data);
    const refused = await install('active');
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(`edge-agent models install: invalid version "active": 'active' (in any case, or followed by '.tmp-') is the registry's own pointer file`);
    const accepted = await install('1.0.0');
    expect(accepted, accepted.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining('active forecast model: temperature-forecast 1.0.0') });
    expect(readdirSync(join(data, 'models', 'forecast')).sort()).toEqual(['1.0.0', 'active']);
  });

  it('reports an HTTP error as the server being unavailable (69)', async () => {
    const result = await models('install', 'intruder', server.url('/missing.onnx'), '--sha256', sha, '--version', '9', '--config', config);
    expect(result.code, result.stderr).toBe(69);
    expect(result.stderr).toMatch(/edge-agent models install: HTTP 404 Not Found from https:\/\/127\.0\.0\.1:\d+\/missing\.onnx\n$/);
  });

  it('requires a signature made with sign-model when ota.public_key is set', async () => {
    const keys = join(dir, 'keys');
    expect((await signModel('keygen', '--out', keys)).code).toBe(0);
    const signedConfig = join(dir, 'signed.yaml');
    writeFileSync(signedConfig, `data_dir: ${join(dir, 'signed-data')}\nintruder:\n  threads: 1\nota:\n  public_key: ${join(keys, 'ota-signing.pub')}\n`);

    const unsigned = await models('install', 'intruder', intruderModelPath, '--sha256', sha, '--version', '3', '--config', signedConfig);
    expect(unsigned.code, unsigned.stderr).toBe(65);
    expect(unsigned.stderr).toContain('update is not signed, and ota.public_key requires a signature');

    const signature = (await signModel('sign', '--key', join(keys, 'ota-signing.key'), '--role', 'intruder', '--version', '3', '--file', intruderModelPath)).stdout.trim();
    const forged = await models('install', 'intruder', intruderModelPath, '--sha256', sha, '--version', '4', '--signature', signature, '--config', signedConfig);
    expect(forged.code, forged.stderr).toBe(65);
    expect(forged.stderr).toContain('signature does not match {"role":"intruder","sha256":');

    const signed = await models('install', 'intruder', intruderModelPath, '--sha256', sha, '--version', '3', '--signature', signature, '--activate', '--config', signedConfig);
    expect(signed, signed.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining('active intruder model: yolov8n-int8 3') });
    expect((await signModel('keygen', '--out', keys)).stderr).toContain('exists; refusing to overwrite it');
  });
});
