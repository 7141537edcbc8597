/** Real windows from the occupancy fixtures, and tiny hand-built forecaster models, for the forecast tests. */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeModel, floatTensor, node, tensorValueInfo } from '../../models/onnx-builder.js';
import { OnnxDataType } from '../../models/onnx-proto.js';
import { occupancyExamples } from '../../scripts/train/forecast-training.js';
import { fixture } from '../helpers/fixtures.js';

export function occupancyCsv(name: 'datatraining.txt' | 'datatest.txt'): string {
  return readFileSync(fixture(`data/occupancy/${name}`), 'utf8');
}

/** Every 60-reading window of datatest.txt with its target, as plain arrays. */
export function testWindows(): { windows: number[][]; targets: number[] } {
  const { examples } = occupancyExamples(occupancyCsv('datatest.txt'), 'datatest.txt');
  return { windows: examples.windows.map((w) => Array.from(w)), targets: Array.from(examples.targets) };
}

/**
 * Writes a model that "forecasts" the last reading of a window of `width` values (MatMul with a
 * one-hot column), with the given metadata, and returns its path.
 */
export async function writeLastValueModel(dir: string, fileName: string, width: number, metadata: Record<string, string>): Promise<string> {
  const pickLast = Array.from({ length: width }, (_, i) => (i === width - 1 ? 1 : 0));
  const bytes = encodeModel({
    irVersion: 8,
    opset: 13,
    producerName: 'edge-agent tests',
    producerVersion: '0',
    metadata,
    graph: {
      name: 'last-value',
      nodes: [node('MatMul', ['window', 'pick_last'], ['celsius'])],
      initializers: [floatTensor('pick_last', [width, 1], pickLast)],
      inputs: [tensorValueInfo('window', OnnxDataType.FLOAT, ['batch', width])],
      outputs: [tensorValueInfo('celsius', OnnxDataType.FLOAT, ['batch', 1])],
    },
  });
  const path = join(dir, fileName);
  await writeFile(path, bytes);
  return path;
}
