import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot, shippedModelPath } from '../../agent/lib/paths.js';

describe('packageRoot', () => {
  it('is the folder of the package.json of edge-agent, and holds the shipped forecaster', () => {
    const root = packageRoot();
    expect((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string }).name).toBe('edge-agent');
    expect(shippedModelPath('temperature-forecast.onnx')).toBe(join(root, 'models', 'temperature-forecast.onnx'));
    expect(existsSync(shippedModelPath('temperature-forecast.onnx'))).toBe(true);
  });
});
