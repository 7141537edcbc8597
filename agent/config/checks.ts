/**
 * Checks a schema cannot express: keys that need each other (`driver: dir` needs `dir`), files that
 * must exist now rather than fail hours later at the first reconnect, and the AWS IoT profile's
 * requirements. They run on the merged configuration even when the schema found problems, so the
 * user sees everything in one go; each check looks only at values of the right type.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { ConfigProblem } from './env.js';
import { dataFolderProblem } from './path-checks.js';
import { InputFileError, readRegularFileSync } from '../lib/input-file.js';
import { loadPublicKey, MAX_PEM_BYTES } from '../ota/verify.js';
import { cameraProblems } from './camera-checks.js';
import { section, type KeyPath, type Obj } from './config-values.js';
import { emptyRangeProblems } from './filter-checks.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

type Locate = (path: string[]) => string | undefined;

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Why `path` is not a readable PEM bundle of certificates, or null. */
function certificatesProblem(path: string): string | null {
  let text: string;
  try {
    text = readRegularFileSync(path, MAX_PEM_BYTES).toString('utf8');
  } catch (err) {
    return err instanceof InputFileError ? err.message : `${path}: ${(err as Error).message}`;
  }
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`;
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return `${path}: certificate ${i + 1} of ${blocks.length} cannot be parsed (${(err as Error).message})`;
    }
  }
  return null;
}

function fileProblem(path: string, kind: 'file' | 'folder'): string | null {
  try {
    const stat = statSync(path);
    if (kind === 'file' && !stat.isFile()) return `${path} is not a file`;
    if (kind === 'folder' && !stat.isDirectory()) return `${path} is not a folder`;
    accessSync(path, constants.R_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${path} does not exist`;
    if (code === 'EACCES') return `${path} is not readable by this user`;
    return `${path}: ${(err as Error).message}`;
  }
}

export function checkConfig(config: Obj, locate: Locate): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const report = (path: string[], message: string) => problems.push({ path: path.join('.'), message, source: locate(path) });
  // List items are named as the schema's problems name them: intruder.zones[1].name.
  const reportAt = (path: KeyPath, message: string) =>
    problems.push({
      path: path.map((s, i) => (typeof s === 'number' ? `[${s}]` : (i > 0 ? '.' : '') + s)).join(''),
      message,
      source: locate(path.filter((s): s is string => typeof s === 'string')),
    });
  const mustExist = (path: string[], value: unknown, kind: 'file' | 'folder') => {
    const p = text(value);
    const problem = p === null ? null : fileProblem(p, kind);
    if (problem) report(path, problem);
  };

  cameraProblems(config, reportAt, (path, value, kind) => mustExist(path.map(String), value, kind));

  const sensor = section(config, 'sensor');
  if (sensor.driver === 'replay') {
    if (text(sensor.file) === null) report(['sensor', 'file'], 'is required with sensor.driver "replay" (the CSV file to replay)');
    else mustExist(['sensor', 'file'], sensor.file, 'file');
  }

  mustExist(['intruder', 'model'], section(config, 'intruder').model, 'file');
  const shared = { filters: section(section(config, 'intruder'), 'filters'), path: ['intruder', 'filters'] };
  emptyRangeProblems([shared], reportAt);
  for (const [name, camera] of Object.entries(section(config, 'cameras'))) {
    if (typeof camera === 'object' && camera !== null) emptyRangeProblems([{ filters: section(camera as Obj, 'filters'), path: ['cameras', name, 'filters'] }, shared], reportAt);
  }
  const forecast = section(config, 'forecast');
  mustExist(['forecast', 'model'], forecast.model, 'file');
  if (typeof forecast.high_c === 'number' && typeof forecast.low_c === 'number' && forecast.low_c >= forecast.high_c) {
    report(['forecast', 'low_c'], `must be below forecast.high_c (${forecast.low_c} >= ${forecast.high_c})`);
  }

  const mqtt = section(config, 'mqtt');
  for (const key of ['ca', 'cert', 'key', 'password_file']) mustExist(['mqtt', key], mqtt[key], 'file');
  if ((text(mqtt.cert) === null) !== (text(mqtt.key) === null)) {
    report(['mqtt', text(mqtt.cert) === null ? 'cert' : 'key'], 'mqtt.cert and mqtt.key go together: set both or neither');
  }
  // One URL, or a list of them (failover): each is checked, and named by its place in the list.
  const urls: [string, unknown][] = Array.isArray(mqtt.url) ? mqtt.url.map((u, i) => [`url[${i}]`, u]) : [['url', mqtt.url]];
  for (const [key, url] of urls) {
    if (text(url) === null) continue;
    try {
      new URL(url as string);
    } catch {
      report(['mqtt', key], `is not a valid URL (got ${JSON.stringify(url)})`);
    }
  }
  const awsIot = section(mqtt, 'aws_iot');
  const provisioning = section(awsIot, 'provisioning');
  const provisioningOn = text(provisioning.template) !== null;
  if (text(awsIot.thing_name) !== null || provisioningOn) {
    for (const [key, url] of urls) {
      if (typeof url === 'string' && !/^(mqtts|wss):\/\//.test(url)) {
        report(['mqtt', key], `must be mqtts:// (port 8883) with AWS IoT Core (got ${JSON.stringify(url)})`);
      }
    }
    // With provisioning by claim the device's own certificate is made on the device (<data_dir>/aws-iot/).
    if (!provisioningOn) {
      for (const key of ['cert', 'key']) {
        if (text(mqtt[key]) === null) report(['mqtt', key], 'is required with mqtt.aws_iot.thing_name (AWS IoT Core authenticates devices by certificate)');
      }
    }
  }
  if (provisioningOn) {
    for (const key of ['claim_cert', 'claim_key']) {
      if (text(provisioning[key]) === null) report(['mqtt', 'aws_iot', 'provisioning', key], 'is required with mqtt.aws_iot.provisioning.template (the claim certificate signs the provisioning requests)');
      else mustExist(['mqtt', 'aws_iot', 'provisioning', key], provisioning[key], 'file');
    }
    const parameters = Array.isArray(provisioning.parameters) ? provisioning.parameters : [];
    for (const [i, parameter] of parameters.entries()) {
      if (typeof parameter === 'string' && !/^[^=]+=/.test(parameter)) {
        report(['mqtt', 'aws_iot', 'provisioning', `parameters[${i}]`], `must be Name=value (got ${JSON.stringify(parameter)})`);
      }
    }
  }

  // A key that cannot be used would otherwise stop start-up later with a less precise exit status.
  const ota = section(config, 'ota');
  const otaCa = text(ota.ca);
  if (otaCa !== null) {
    const problem = fileProblem(otaCa, 'file') ?? certificatesProblem(otaCa);
    if (problem) report(['ota', 'ca'], problem);
  }
  const publicKey = text(ota.public_key);
  if (publicKey !== null) {
    try {
      loadPublicKey(publicKey);
    } catch (err) {
      report(['ota', 'public_key'], (err as Error).message.replace(/^ota\.public_key: /, ''));
    }
  }

  // Missing is fine (the agent creates it), but not where it cannot be a folder on a disk.
  const dataDir = text(config.data_dir);
  const dataProblem = dataDir === null ? null : dataFolderProblem(dataDir);
  if (dataProblem) report(['data_dir'], dataProblem);
  return problems;
}
