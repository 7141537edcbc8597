import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { loadIntruderDetector } from '../../models/intruder.js';
import { resizeYoloInput } from '../../models/yolo-resize.js';

/**
 * A model file that runs at a square input of `size` (load it with `inputSize: size`): `modelPath` itself
 * when its input is dynamic or already `size`, else a copy re-targeted to `size` (models/yolo-resize.ts),
 * written in `dir`. The fixture YOLOv8n is fixed at 640; this is how the benchmarks measure it at 320.
 */
export async function modelFileAtSize(modelPath: string, size: number, dir: string): Promise<string> {
  const asIs = await loadIntruderDetector(modelPath, { threads: 1, inputSize: size }).catch(() => null);
  if (asIs) {
    await asIs.close();
    return modelPath;
  }
  const path = join(dir, `${basename(modelPath, '.onnx')}-${size}.onnx`);
  await writeFile(path, resizeYoloInput(await readFile(modelPath), size));
  return path;
}
