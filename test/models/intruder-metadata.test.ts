import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { onnx, readOnnxMetadata } from '../../models/onnx-proto.js';
import { fixture } from '../helpers/fixtures.js';

describe('readOnnxMetadata', () => {
  it('reads the same metadata as decoding the whole model, without decoding the graph', async () => {
    const bytes = await readFile(fixture('models/yolov8n-int8.onnx'));
    const decoded = onnx.ModelProto.decode(bytes) as unknown as { metadata_props: { key: string; value: string }[] };
    const expected = Object.fromEntries(decoded.metadata_props.map((entry) => [entry.key, entry.value]));
    const metadata = readOnnxMetadata(bytes);
    expect(metadata).toEqual(expected);
    expect(metadata).toMatchObject({ task: 'detect', imgsz: '[640, 640]' });
  });

  it('finds entries wherever they are among the fields, and an empty map when there are none', () => {
    const model = onnx.ModelProto.fromObject({
      ir_version: 8,
      producer_name: 'test',
      metadata_props: [
        { key: 'names', value: "{0: 'a'}" },
        { key: 'empty', value: '' },
      ],
      graph: { name: 'g' },
    });
    expect(readOnnxMetadata(onnx.ModelProto.encode(model).finish())).toEqual({ names: "{0: 'a'}", empty: '' });
    expect(readOnnxMetadata(onnx.ModelProto.encode(onnx.ModelProto.fromObject({ ir_version: 8 })).finish())).toEqual({});
  });

  it('throws on bytes that are not a protobuf message', async () => {
    const jpeg = new Uint8Array(await readFile(fixture('images/bus.jpg')));
    expect(() => readOnnxMetadata(jpeg)).toThrow(/wire type|index out of range/);
  });
});
