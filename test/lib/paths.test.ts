import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageRoot, shippedModelPath } from '../../agent/lib/paths.js';

describe('packageRoot', () => {
  it('is the folder of the edge-agent package.json', () => {
    expect((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { name: string }).name).toBe('edge-agent');
  });

  it('is the same folder for the compiled code in dist/ as for the sources', async () => {
    const compiled = join(packageRoot(), 'dist', 'agent', 'lib', 'paths.js');
    expect(existsSync(compiled), `${compiled} is missing: the global setup builds dist/ first`).toBe(true);
    const fromDist = (await import(pathToFileURL(compiled).href)) as { packageRoot: () => string };
    expect(fromDist.packageRoot()).toBe(packageRoot());
  });
});

describe('shippedModelPath', () => {
  it("points into the package's models/ folder, where the forecaster and its card ship", () => {
    expect(shippedModelPath('temperature-forecast.onnx')).toBe(join(packageRoot(), 'models', 'temperature-forecast.onnx'));
    expect(existsSync(shippedModelPath('temperature-forecast.onnx'))).toBe(true);
    expect(existsSync(shippedModelPath('temperature-forecast.md'))).toBe(true);
  });
});
