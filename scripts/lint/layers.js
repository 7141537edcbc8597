/**
 * The layer rule (README, "Architecture"), as an ESLint rule: imports point down only.
 *
 * - agent/lib/ imports nothing of the project: everyone may import it.
 * - drivers/ and models/ import nothing of agent/ but agent/lib/, and not each other.
 * - agent/ imports a driver only through its index.ts (drivers/<name>/index.ts).
 * - only agent/cli.ts imports agent/commands/ (the commands may share helpers among themselves).
 * - product code (agent/, drivers/, models/) imports nothing of scripts/ or test/.
 *
 * scripts/ and test/ may import anything. Imports are resolved against the importing file, so the rule
 * sees repository paths, not the `../..` spellings.
 */
import { dirname, relative, resolve, sep } from 'node:path';

const root = dirname(dirname(dirname(new URL(import.meta.url).pathname)));

function repoPath(file) {
  return relative(root, file).split(sep).join('/');
}

function inside(path, folder) {
  return path === folder || path.startsWith(`${folder}/`);
}

/** Why `from` may not import `to` (both repository paths), or null when it may. */
export function layerViolation(from, to) {
  const product = ['agent', 'drivers', 'models'].some((top) => inside(from, top));
  if (!product) return null;
  if (inside(to, 'scripts') || inside(to, 'test')) return `${from} is product code: it cannot import ${to} (scripts/ and test/ sit above it)`;
  if (inside(from, 'agent/lib')) {
    return inside(to, 'agent/lib') ? null : `agent/lib/ imports nothing of the project, but ${from} imports ${to}`;
  }
  for (const low of ['drivers', 'models']) {
    if (!inside(from, low)) continue;
    if (inside(to, low) || inside(to, 'agent/lib')) return null;
    return `${low}/ may import only ${low}/ and agent/lib/, but ${from} imports ${to}`;
  }
  // agent/, outside lib/
  const driver = /^drivers\/([^/]+)\/(.+)$/.exec(to);
  if (driver && driver[2] !== 'index.js' && driver[2] !== 'index.ts') {
    return `agent/ imports a driver only through its index.ts: import drivers/${driver[1]}/index.js instead of ${to}`;
  }
  if (inside(to, 'agent/commands') && !inside(from, 'agent/commands') && from !== 'agent/cli.ts') {
    return `only agent/cli.ts imports agent/commands/, but ${from} imports ${to}`;
  }
  return null;
}

const rule = {
  meta: { type: 'problem', docs: { description: 'imports point down the layers only' }, schema: [] },
  create(context) {
    const from = repoPath(context.filename);
    function check(node, source) {
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const to = repoPath(resolve(dirname(context.filename), source.value));
      const why = layerViolation(from, to);
      if (why) context.report({ node, message: why });
    }
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
    };
  },
};

export default { rules: { layers: rule } };
