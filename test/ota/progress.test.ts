import { describe, expect, it } from 'vitest';
import { ProgressGate } from '../../agent/ota/messages.js';
import { ProgressBar, render } from '../../agent/ota/progress-bar.js';
import type { UpdateProgress } from '../../agent/ota/updater.js';

const downloading = (receivedBytes: number, totalBytes: number | null): UpdateProgress => ({ stage: 'downloading', download: { receivedBytes, totalBytes } });

describe('ProgressGate', () => {
  it('lets through each new stage and each 10 % step of the download', () => {
    const gate = new ProgressGate(10);
    const events = [
      { stage: 'downloading' } as UpdateProgress,
      ...Array.from({ length: 100 }, (_, i) => downloading((i + 1) * 1000, 100_000)),
      { stage: 'verifying' } as UpdateProgress,
      { stage: 'validating' } as UpdateProgress,
    ];
    const passed = events.filter((e) => gate.shouldReport(e)).map((e) => (e.download ? e.download.receivedBytes / 1000 : e.stage));
    expect(passed).toEqual(['downloading', 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 'verifying', 'validating']);
  });

  it('steps by bytes when the length is unknown', () => {
    const gate = new ProgressGate(10, 1000);
    gate.shouldReport({ stage: 'downloading' });
    const passed = [500, 999, 1000, 1500, 2100, 2200].filter((n) => gate.shouldReport(downloading(n, null)));
    expect(passed).toEqual([1000, 2100]);
  });
});

describe('ProgressBar', () => {
  it('draws the bar, percentage and bytes', () => {
    expect(render(downloading(1024 * 1024, 4 * 1024 * 1024))).toBe(`downloading [########----------------------]  25% 1.0 MB / 4.0 MB`);
    expect(render(downloading(2048, null))).toBe('downloading 2.0 KB');
    expect(render({ stage: 'validating' })).toBe('validating...');
  });

  it('redraws in place at most every 100 ms, except for a new stage or the last byte, and ends its line once', () => {
    const out: string[] = [];
    let now = 0;
    const bar = new ProgressBar({ write: (text) => out.push(text) > 0 }, () => now);
    bar.update(downloading(10, 100));
    now = 50;
    bar.update(downloading(20, 100)); // too soon
    bar.update(downloading(100, 100)); // complete: always drawn
    bar.update({ stage: 'validating' }); // new stage: always drawn
    bar.finish();
    bar.finish();
    expect(out.map((line) => line.replace('\r\x1b[2K', ''))).toEqual([
      render(downloading(10, 100)),
      render(downloading(100, 100)),
      'validating...',
      '\n',
    ]);
  });
});
