/**
 * `npm run docs`: rewrites the generated reference blocks of docs/configuration.md, docs/mqtt.md and README.md
 * from the configuration schema and the MQTT payload schemas. `--check` only reports stale blocks
 * (exit status 1), for CI.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../agent/lib/paths.js';
import { GENERATED_DOCS, replaceGenerated } from './render.js';

const check = process.argv.includes('--check');
const stale = GENERATED_DOCS.filter((doc) => {
  const path = join(packageRoot(), doc.file);
  const current = readFileSync(path, 'utf8');
  const next = replaceGenerated(current, doc.block, doc.render());
  if (next === current) return false;
  if (check) process.stderr.write(`${doc.file} is out of date: run npm run docs\n`);
  else {
    writeFileSync(path, next);
    process.stdout.write(`updated ${doc.file}\n`);
  }
  return true;
});
process.exitCode = check && stale.length > 0 ? 1 : 0;
