/**
 * Every relative link in the README and docs/ leads somewhere: the file or folder exists in the
 * repository, and a `#fragment` names a heading of the markdown file it points into (GitHub's slugs).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../agent/lib/paths.js';

const root = packageRoot();
const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).trim().split('\n');
const documents = tracked.filter((f) => f === 'README.md' || (f.startsWith('docs/') && f.endsWith('.md')) || f === 'models/temperature-forecast.md');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(join(root, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

function links(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8').replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((target) => !/^[a-z]+:/.test(target));
}

describe('documentation links', () => {
  for (const doc of documents) {
    it(`${doc}: every relative link resolves`, () => {
      const broken: string[] = [];
      for (const link of links(doc)) {
        const [path, fragment] = link.split('#') as [string, string | undefined];
        const target = path === '' ? doc : normalize(join(dirname(doc), path)).replace(/\/$/, '');
        const exists = tracked.some((f) => f === target || f.startsWith(`${target}/`));
        if (!exists) broken.push(`${link} (no ${target})`);
        else if (fragment && target.endsWith('.md') && !anchors(target).has(fragment)) broken.push(`${link} (no heading #${fragment} in ${target})`);
      }
      expect(broken).toEqual([]);
    });
  }

  it('keeps the README short enough to read: under 300 lines', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8').split('\n').length).toBeLessThan(300);
  });

  it('lists in docs/benchmarks.md every bench:* and eval:* script of package.json, and nothing else', () => {
    const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const measuring = Object.keys(scripts).filter((name) => /^(bench|eval):/.test(name)).sort();
    const listed = [...readFileSync(join(root, 'docs', 'benchmarks.md'), 'utf8').matchAll(/^\| `npm run ([^`]+)` \|/gm)].map((m) => m[1]!).sort();
    expect(listed).toEqual(measuring);
  });
});
