/**
 * Checks a schema cannot express: keys that need each other (`driver: dir` needs `dir`), files that
 * must exist now rather than fail hours later at the first reconnect, and the AWS IoT profile's
 * requirements. They run on the merged configuration even when the schema found problems, so the
 * user sees everything in one go; each check looks only at values of the right type.
 */
import { accessSync, constants, statSync } from 'node:fs';
import type { ConfigProblem } from './env.js';
import { loadPublicKey } from '../ota/verify.js';

type Obj = Record<string, unknown>;
type Locate = (path: string[]) => string | undefined;

function section(config: Obj, key: string): Obj {
  const value = config[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : {};
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
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
  const mustExist = (path: string[], value: unknown, kind: 'file' | 'folder') => {
    const p = text(value);
    const problem = p === null ? null : fileProblem(p, kind);
    if (problem) report(path, problem);
  };

  const camera = section(config, 'camera');
  if (camera.driver === 'dir') {
    if (text(camera.dir) === null) report(['camera', 'dir'], 'is required with camera.driver "dir" (the folder of images to replay)');
    else mustExist(['camera', 'dir'], camera.dir, 'folder');
  }
  if (camera.driver === 'ffmpeg' && text(camera.input) === null) {
    report(['camera', 'input'], 'is required with camera.driver "ffmpeg" (a /dev/videoN device or a stream URL)');
  }

  const sensor = section(config, 'sensor');
  if (sensor.driver === 'replay') {
    if (text(sensor.file) === null) report(['sensor', 'file'], 'is required with sensor.driver "replay" (the CSV file to replay)');
    else mustExist(['sensor', 'file'], sensor.file, 'file');
  }

  mustExist(['intruder', 'model'], section(config, 'intruder').model, 'file');
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
  if (text(mqtt.url) !== null) {
    try {
      new URL(mqtt.url as string);
    } catch {
      report(['mqtt', 'url'], `is not a valid URL (got ${JSON.stringify(mqtt.url)})`);
    }
  }
  if (text(section(mqtt, 'aws_iot').thing_name) !== null) {
    if (typeof mqtt.url === 'string' && !/^(mqtts|wss):\/\//.test(mqtt.url)) {
      report(['mqtt', 'url'], `must be mqtts:// (port 8883) with AWS IoT Core (got ${JSON.stringify(mqtt.url)})`);
    }
    for (const key of ['cert', 'key']) {
      if (text(mqtt[key]) === null) report(['mqtt', key], 'is required with mqtt.aws_iot.thing_name (AWS IoT Core authenticates devices by certificate)');
    }
  }

  // A key that cannot be used would otherwise stop start-up later with a less precise exit status.
  const ota = section(config, 'ota');
  mustExist(['ota', 'ca'], ota.ca, 'file');
  const publicKey = text(ota.public_key);
  if (publicKey !== null) {
    try {
      loadPublicKey(publicKey);
    } catch (err) {
      report(['ota', 'public_key'], (err as Error).message.replace(/^ota\.public_key: /, ''));
    }
  }

  const dataDir = text(config.data_dir);
  if (dataDir !== null) {
    try {
      if (!statSync(dataDir).isDirectory()) report(['data_dir'], `${dataDir} exists and is not a folder`);
    } catch {
      // Missing is fine: the agent creates it.
    }
  }
  return problems;
}
