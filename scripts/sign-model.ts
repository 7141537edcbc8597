/**
 * `npm run sign:model -- keygen --out DIR`
 * `npm run sign:model -- sign --key FILE --role ROLE --version V (--file MODEL | --sha256 HEX) [--json]`
 *
 * Makes the Ed25519 key pair for `ota.public_key` and signs model updates with its private key. What is
 * signed is the canonical manifest `{"role":...,"sha256":...,"version":...}` (see agent/ota/verify.ts and
 * docs/ota.md); the printed base64 signature goes into the update's `signature` field (MQTT command, AWS
 * IoT job document, or `edge-agent models install --signature`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { canonicalManifest, generateSigningKeys, normalizeSha256, signManifest } from '../agent/ota/verify.js';
import { hashFile, isModelRole, checkVersion } from '../agent/ota/registry.js';

const USAGE = `usage:
  sign-model keygen --out DIR     write DIR/ota-signing.key (private, mode 600) and DIR/ota-signing.pub
  sign-model sign --key FILE --role intruder|forecast --version V (--file MODEL | --sha256 HEX) [--json]`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      key: { type: 'string' },
      role: { type: 'string' },
      version: { type: 'string' },
      file: { type: 'string' },
      sha256: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command] = positionals;
  if (values.help || command === undefined) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (command === 'keygen') return keygen(values.out);
  if (command === 'sign') return sign(values);
  throw new Error(`unknown command '${command}'\n${USAGE}`);
}

function keygen(out: string | undefined): number {
  if (!out) throw new Error('keygen: --out DIR is required');
  const privatePath = join(out, 'ota-signing.key');
  const publicPath = join(out, 'ota-signing.pub');
  // Never overwrite a private key: every device trusting its public key would have to be reconfigured.
  if (existsSync(privatePath)) throw new Error(`keygen: ${privatePath} exists; refusing to overwrite it`);
  mkdirSync(out, { recursive: true });
  const keys = generateSigningKeys();
  writeFileSync(privatePath, keys.privateKey, { mode: 0o600 });
  writeFileSync(publicPath, keys.publicKey);
  console.log(`private key: ${privatePath} (keep it off the devices)\npublic key:  ${publicPath} (ota.public_key on every device)`);
  return 0;
}

async function sign(values: { key?: string; role?: string; version?: string; file?: string; sha256?: string; json?: boolean }): Promise<number> {
  if (!values.key) throw new Error('sign: --key FILE is required');
  if (!values.role || !isModelRole(values.role)) throw new Error('sign: --role must be intruder or forecast');
  if (!values.version) throw new Error('sign: --version is required');
  checkVersion(values.version);
  if ((values.file === undefined) === (values.sha256 === undefined)) throw new Error('sign: give exactly one of --file MODEL or --sha256 HEX');
  const sha256 = values.file ? (await hashFile(values.file)).sha256 : normalizeSha256(values.sha256);
  const manifest = { role: values.role, version: values.version, sha256 };
  const signature = signManifest(readFileSync(values.key, 'utf8'), manifest);
  if (values.json) console.log(JSON.stringify({ ...manifest, signature, manifest: canonicalManifest(manifest) }));
  else console.log(signature);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`sign-model: ${(err as Error).message}`);
    process.exitCode = 2;
  },
);
