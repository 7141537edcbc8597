import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../agent/lib/paths.js';

/** ../shared/fixtures beside the checkout (override with EDGE_AGENT_FIXTURES). */
export const fixturesDir = resolve(process.env.EDGE_AGENT_FIXTURES ?? join(packageRoot(), '..', 'shared', 'fixtures'));

/**
 * Path of a file under ../shared/fixtures. A missing fixture is a test failure with a message naming
 * the path, never a silent skip.
 */
export function fixture(relativePath: string): string {
  const path = join(fixturesDir, relativePath);
  if (!existsSync(path)) {
    throw new Error(
      `missing test fixture ${path}: clone the project beside shared/ (../shared/fixtures) or set EDGE_AGENT_FIXTURES`,
    );
  }
  return path;
}
