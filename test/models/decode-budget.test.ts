/**
 * The decode budget (models/image-input.ts): images that must be decoded whole (progressive JPEG,
 * interlaced PNG) are priced at what that costs and refused above the budget, the same size streamed
 * (baseline JPEG, plain PNG) is accepted, and concurrent decodes wait for room in the detector's budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBudget } from '../../agent/lib/memory-budget.js';
import { InvalidInputError } from '../../models/errors.js';
import { decodePlan, DEFAULT_DECODE_BUDGET_BYTES, DEFAULT_MAX_PIXELS, letterboxPixels } from '../../models/image-input.js';
import { loadIntruderDetector, type LoadedIntruderDetector } from '../../models/intruder.js';
import { fixture } from '../helpers/fixtures.js';
import { flatImage, type ImageLayout } from '../../scripts/bench/layouts.js';

const MB = 1024 * 1024;
const INPUT = { width: 640, height: 640 };
/** The cheapest decode of `bytes` (the HTTP API's check before the queue)... */
const plan = (bytes: Buffer) => decodePlan(bytes, DEFAULT_MAX_PIXELS, DEFAULT_DECODE_BUDGET_BYTES);
/** ...and its decode into the fixture detector's 640x640 input. */
const costFor640 = async (bytes: Buffer) => (await decodePlan(bytes, DEFAULT_MAX_PIXELS, DEFAULT_DECODE_BUDGET_BYTES, INPUT)).costBytes;

describe('pricing a decode from the header', () => {
  it('prices an image that must be decoded whole at the streamed price plus the whole image', async () => {
    const priced = Object.fromEntries(
      await Promise.all(
        (['baseline-jpeg', 'progressive-jpeg', 'png', 'interlaced-png'] as const).map(async (layout) => [layout, await plan(await flatImage(layout, 2000, 1500))] as const),
      ),
    );
    expect(Object.values(priced).map((p) => [p.width, p.height])).toEqual(new Array(4).fill([2000, 1500]));
    expect(Object.values(priced).map((p) => p.wholeImage)).toEqual([false, true, false, true]);
    // A progressive 4:2:0 JPEG keeps 1.5 DCT coefficients a pixel, 2 bytes each; an interlaced PNG its RGB pixels.
    expect(priced['progressive-jpeg']!.costBytes - priced['baseline-jpeg']!.costBytes).toBe(2000 * 1500 * 1.5 * 2);
    expect(priced['interlaced-png']!.costBytes - priced['png']!.costBytes).toBe(2000 * 1500 * 3);
    // A JPEG is shrunk while it is decoded; a PNG streams at full width.
    expect(priced['baseline-jpeg']!.costBytes).toBeLessThan(priced['png']!.costBytes);
  });

  it.each<[ImageLayout, string]>([
    ['progressive-jpeg', 'progressive JPEG'],
    ['interlaced-png', 'interlaced PNG'],
  ])('refuses a 4500x4500 %s (well under the pixel limit) for what decoding it whole costs', async (layout, kind) => {
    const bytes = await flatImage(layout, 4500, 4500);
    expect(bytes.length).toBeLessThan(1 * MB);
    const error = await plan(bytes).then(() => null, (err: unknown) => err);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(new RegExp(`^decoding this 4500x4500 ${kind} \\(decoded whole\\) takes about \\d+ MB, over the 64 MB decode budget: send a baseline JPEG or a non-interlaced PNG, or a smaller image$`));
  });

  it('accepts the same size streamed', async () => {
    for (const layout of ['baseline-jpeg', 'png'] as const) {
      const priced = await plan(await flatImage(layout, 4500, 4500));
      expect(priced.costBytes, layout).toBeLessThan(DEFAULT_DECODE_BUDGET_BYTES);
    }
  });
});

describe('decodes in flight are bounded by memory', () => {
  let detector: LoadedIntruderDetector;
  let progressive: Buffer;
  beforeAll(async () => {
    progressive = await flatImage('progressive-jpeg', 1500, 1500);
    const cost = await costFor640(progressive);
    // Room for one such decode at a time, not two.
    detector = await loadIntruderDetector(fixture('models/yolov8n-int8.onnx'), { threads: 1, decodeBudgetBytes: Math.ceil(cost * 1.5) });
  });
  afterAll(() => detector?.close());

  it('runs concurrent decodes one after another when they do not fit together, and all succeed', async () => {
    const budget = new MemoryBudget(await costFor640(progressive));
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, budget.queued)), 1);
    try {
      const results = await Promise.all(Array.from({ length: 4 }, () => letterboxPixels(progressive, INPUT, DEFAULT_MAX_PIXELS, budget)));
      expect(results.map((r) => r.imageWidth)).toEqual([1500, 1500, 1500, 1500]);
    } finally {
      clearInterval(watch);
    }
    expect(most, 'decodes waited for room').toBeGreaterThan(0);
    expect(budget.inUse).toBe(0);
  });

  it("goes through the detector's own budget, and a too costly image is refused by it", async () => {
    const results = await Promise.all(Array.from({ length: 3 }, () => detector.detect(progressive)));
    expect(results.every((r) => r.image.width === 1500)).toBe(true);
    const tooBig = await flatImage('progressive-jpeg', 3000, 3000);
    await expect(detector.detect(tooBig)).rejects.toThrow(/^decoding this 3000x3000 progressive JPEG \(decoded whole\) takes about \d+ MB, over the \d+ MB decode budget/);
  });
});
