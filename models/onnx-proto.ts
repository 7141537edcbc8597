/**
 * The subset of the ONNX protobuf schema (onnx.proto3, IR version 3+) this project reads and writes:
 * model metadata (class names, the forecaster's contract) and small graphs built by the training script.
 * Field numbers follow the official schema; fields not listed here are skipped when decoding.
 */
import protobuf from 'protobufjs';

const ONNX_SUBSET_PROTO = `
syntax = "proto3";
package onnx;

message StringStringEntryProto { string key = 1; string value = 2; }
message OperatorSetIdProto { string domain = 1; int64 version = 2; }

message TensorShapeProto {
  message Dimension {
    oneof value { int64 dim_value = 1; string dim_param = 2; }
    string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
  string denotation = 6;
}

message ValueInfoProto { string name = 1; TypeProto type = 2; string doc_string = 3; }

message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  string name = 8;
  bytes raw_data = 9;
  string doc_string = 12;
}

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10;
  }
  string name = 1;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  string doc_string = 13;
  AttributeType type = 20;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
  string doc_string = 6;
  string domain = 7;
}

message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}
`;

const root = protobuf.parse(ONNX_SUBSET_PROTO, { keepCase: true }).root;

/** protobufjs message types for the ONNX subset; `ModelProto.encode(...)`/`decode(...)` as usual. */
export const onnx = {
  ModelProto: root.lookupType('onnx.ModelProto'),
  GraphProto: root.lookupType('onnx.GraphProto'),
  NodeProto: root.lookupType('onnx.NodeProto'),
  TensorProto: root.lookupType('onnx.TensorProto'),
  AttributeProto: root.lookupType('onnx.AttributeProto'),
  ValueInfoProto: root.lookupType('onnx.ValueInfoProto'),
};

/** ONNX TensorProto.DataType values used here. */
export const OnnxDataType = { FLOAT: 1, INT64: 7 } as const;

/** ONNX AttributeProto.AttributeType values used here. */
export const OnnxAttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** ModelProto field number of `metadata_props` (onnx.proto3). */
const METADATA_PROPS_FIELD = 14;
const LENGTH_DELIMITED = 2;

/**
 * Reads the model-level `metadata_props` of an ONNX file as a plain map.
 * onnxruntime-node does not expose them, so the file is read here. Only the top-level fields are walked
 * and every field but `metadata_props` is skipped by its length, so the graph and its weights (most of
 * the file) are never decoded: this costs microseconds even for a large model. Throws when the bytes are
 * not a protobuf message.
 */
export function readOnnxMetadata(modelBytes: Uint8Array): Record<string, string> {
  const entryType = root.lookupType('onnx.StringStringEntryProto');
  const reader = protobuf.Reader.create(modelBytes);
  const metadata: Record<string, string> = {};
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field !== METADATA_PROPS_FIELD || wireType !== LENGTH_DELIMITED) {
      reader.skipType(wireType);
      continue;
    }
    const entry = entryType.decode(reader, reader.uint32()) as unknown as { key?: string; value?: string };
    if (entry.key) metadata[entry.key] = entry.value ?? '';
  }
  return metadata;
}
