import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../agent/lib/paths.js';

/** CLI and daemon tests run the compiled bin (as systemd does), so compile once before the suite. */
export default function setup(): void {
  execFileSync(process.execPath, [join(packageRoot(), 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: packageRoot(),
    stdio: 'inherit',
  });
}
