/**
 * The Node.js steps of scripts/arm64/check.sh:
 *   windows CSV COUNT           COUNT 60-reading windows of an occupancy CSV, spread over the file, as
 *                               `edge-agent forecast --batch` input lines
 *   compare detections X86 ARM  compare two `edge-agent detect` outputs (exit 1 on any difference)
 *   compare forecasts X86 ARM   compare two `edge-agent forecast --batch` outputs (exit 1 on any difference)
 *   probe MODEL                 one JSON line about the platform as this process sees it (probe.ts)
 * `probe` runs under emulation too (from the arm64 build's dist/), so this file imports only what the
 * agent's production dependencies provide.
 */
import { readFileSync } from 'node:fs';
import { occupancyExamples } from '../train/forecast-training.js';
import { compareDetections, compareForecasts, type Comparison } from './compare.js';

const USAGE = `usage: check-tool.js windows CSV COUNT
       check-tool.js compare detections|forecasts X86_OUTPUT ARM64_OUTPUT
       check-tool.js probe MODEL`;

function printWindows(csvPath: string, count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new Error(`COUNT must be a positive integer, got ${count}`);
  const { examples } = occupancyExamples(readFileSync(csvPath, 'utf8'), csvPath);
  const windows = examples.windows;
  if (windows.length < count) throw new Error(`${csvPath} has only ${windows.length} complete windows, ${count} wanted`);
  // Spread over the file, so the windows cover its range of temperatures (day, night, weekend).
  for (let i = 0; i < count; i++) {
    const window = windows[Math.floor((i * (windows.length - 1)) / Math.max(1, count - 1))]!;
    process.stdout.write(JSON.stringify({ values: Array.from(window) }) + '\n');
  }
}

function compare(kind: string, x86Path: string, arm64Path: string): number {
  const compareOutputs: Record<string, (x86: string, arm64: string) => Comparison> = { detections: compareDetections, forecasts: compareForecasts };
  const compareKind = compareOutputs[kind];
  if (!compareKind) throw new Error(`unknown comparison ${kind}: detections or forecasts`);
  const { differences, summary } = compareKind(readFileSync(x86Path, 'utf8'), readFileSync(arm64Path, 'utf8'));
  for (const difference of differences) process.stdout.write(`  DIFFERENT ${difference}\n`);
  process.stdout.write(`${summary}${differences.length === 0 ? ', same on x86-64 and arm64' : `, ${differences.length} differences`}\n`);
  return differences.length === 0 ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === 'windows' && args.length === 2) {
    printWindows(args[0]!, Number(args[1]));
    return 0;
  }
  if (command === 'compare' && args.length === 3) return compare(args[0]!, args[1]!, args[2]!);
  if (command === 'probe' && args.length === 1) {
    // Imported here: the other commands need none of the native addons the probe loads.
    const { probePlatform } = await import('./probe.js');
    process.stdout.write(JSON.stringify(await probePlatform(args[0]!)) + '\n');
    return 0;
  }
  process.stderr.write(USAGE + '\n');
  return 2;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`check-tool: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
