/**
 * The temperature forecaster at run time: loads an ONNX model whose metadata states its contract
 * (window, step, horizon, unit), validates windows, and runs many windows in one `session.run`.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import * as ort from './onnxruntime.js';
import { shippedModelPath } from '../agent/lib/paths.js';
import { InvalidInputError, ModelLoadError } from './errors.js';
import { fileErrorReason } from './file-errors.js';
import { readOnnxMetadata } from './onnx-proto.js';
import type { ForecastContract, Forecaster, LevelRange, ModelInfo } from './types.js';

/** Readings outside this range are sensor faults, not weather (the range of common I2C sensors). */
export const PLAUSIBLE_CELSIUS = { min: -60, max: 125 } as const;
export const SHIPPED_FORECAST_MODEL = 'temperature-forecast.onnx';

const CONTRACT_KEYS = ['window', 'step_s', 'horizon_s', 'unit'] as const;

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 40 ? `${json.slice(0, 37)}...` : json;
}

/**
 * Checks one window of readings, oldest first, and returns it as a fresh array. Throws
 * `InvalidInputError` naming the count received, or the index and value of the first bad element.
 */
export function validateWindow(values: unknown, window = 60): number[] {
  if (!Array.isArray(values)) {
    throw new InvalidInputError(`expected an array of exactly ${window} temperature values, got ${values === null ? 'null' : typeof values}`);
  }
  if (values.length !== window) {
    throw new InvalidInputError(`exactly ${window} temperature values are required, received ${values.length}`);
  }
  const checked = new Array<number>(window);
  for (let i = 0; i < window; i++) {
    const value: unknown = values[i];
    if (typeof value !== 'number') throw new InvalidInputError(`value at index ${i} is not a number: ${describe(value)}`);
    if (!Number.isFinite(value)) throw new InvalidInputError(`value at index ${i} is not a finite number: ${value}`);
    if (value < PLAUSIBLE_CELSIUS.min || value > PLAUSIBLE_CELSIUS.max) {
      throw new InvalidInputError(`value at index ${i} is outside the plausible range ${PLAUSIBLE_CELSIUS.min} to ${PLAUSIBLE_CELSIUS.max} °C: ${value}`);
    }
    checked[i] = value;
  }
  return checked;
}

function positiveInteger(metadata: Record<string, string>, key: string): number | string {
  const text = metadata[key] ?? '';
  const value = Number(text);
  return /^\d+$/.test(text) && value > 0 ? value : `${key} must be a positive integer, found ${JSON.stringify(text)}`;
}

/** The contract from a model's metadata, or the reason it is missing or unusable. */
export function parseForecastContract(metadata: Record<string, string>): ForecastContract | string {
  const missing = CONTRACT_KEYS.filter((key) => metadata[key] === undefined);
  if (missing.length > 0) return `no forecaster contract in the ONNX metadata: missing ${missing.join(', ')}`;
  const window = positiveInteger(metadata, 'window');
  const step = positiveInteger(metadata, 'step_s');
  const horizon = positiveInteger(metadata, 'horizon_s');
  for (const field of [window, step, horizon]) if (typeof field === 'string') return `metadata ${field}`;
  if (metadata.unit !== 'Celsius') return `metadata unit must be "Celsius", found ${JSON.stringify(metadata.unit)}`;
  return { window: window as number, step_s: step as number, horizon_s: horizon as number, unit: 'Celsius' };
}

/**
 * The training range a model states in its metadata (`level_min_celsius`, `level_max_celsius`,
 * `level_margin_celsius`, written by models/forecast-graph.ts), or null when it states none.
 */
export function parseLevelRange(metadata: Record<string, string>): LevelRange | null {
  const [min, max, margin] = ['level_min_celsius', 'level_max_celsius', 'level_margin_celsius'].map((key) => Number(metadata[key] ?? Number.NaN)) as [number, number, number];
  return Number.isFinite(min) && Number.isFinite(max) && Number.isFinite(margin) && min <= max && margin >= 0 ? { min, max, margin } : null;
}

function roundCelsius(value: number): number {
  return Math.round(value * 100) / 100;
}

class OnnxForecaster implements Forecaster {
  private closed = false;
  private readonly inputName: string;
  private readonly outputName: string;

  constructor(
    private readonly session: ort.InferenceSession,
    readonly info: ModelInfo,
    readonly contract: ForecastContract,
    readonly levelRange: LevelRange | null,
  ) {
    this.inputName = session.inputNames[0] as string;
    this.outputName = session.outputNames[0] as string;
  }

  async forecast(values: readonly number[]): Promise<number> {
    const [prediction] = await this.run([validateWindow(values, this.contract.window)]);
    return prediction as number;
  }

  async forecastBatch(windows: readonly (readonly number[])[]): Promise<number[]> {
    // Callers validate first; checking again costs microseconds and keeps NaN out of the tensor.
    const checked = windows.map((values, i) => {
      try {
        return validateWindow(values, this.contract.window);
      } catch (err) {
        throw new InvalidInputError(`window ${i}: ${(err as Error).message}`);
      }
    });
    return this.run(checked);
  }

  private async run(windows: readonly number[][]): Promise<number[]> {
    if (this.closed) throw new Error(`forecaster ${this.info.name} ${this.info.version} is closed`);
    if (windows.length === 0) return [];
    const size = this.contract.window;
    const input = new Float32Array(windows.length * size);
    windows.forEach((values, i) => input.set(values, i * size));
    const outputs = await this.session.run({ [this.inputName]: new ort.Tensor('float32', input, [windows.length, size]) });
    const predicted = outputs[this.outputName]?.data as Float32Array;
    return Array.from(predicted.subarray(0, windows.length), roundCelsius);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}

/** Accepts a float32 input [batch or ?, window] and a float32 output, as the contract requires. */
function signatureProblem(session: ort.InferenceSession, window: number): string | null {
  if (session.inputMetadata.length !== 1 || session.outputMetadata.length < 1) {
    return `expected 1 input and at least 1 output, found ${session.inputMetadata.length} and ${session.outputMetadata.length}`;
  }
  const input = session.inputMetadata[0] as ort.InferenceSession.ValueMetadata;
  const output = session.outputMetadata[0] as ort.InferenceSession.ValueMetadata;
  if (!input.isTensor || input.type !== 'float32') return `input ${input.name} must be a float32 tensor`;
  if (!output.isTensor || output.type !== 'float32') return `output ${output.name} must be a float32 tensor`;
  const width = input.shape[1];
  if (input.shape.length !== 2 || (typeof width === 'number' && width !== window)) {
    return `input ${input.name} has shape [${input.shape.join(', ')}], the metadata's window needs [batch, ${window}]`;
  }
  return null;
}

/**
 * Loads a forecaster; by default the model shipped in the package's models/ folder. `options.version`
 * and `options.name` override the version and name read from the metadata (the registry knows which version it installed).
 * Throws `ModelLoadError` naming the file and what is wrong with it.
 */
export async function loadForecaster(modelPath: string = shippedModelPath(SHIPPED_FORECAST_MODEL), options: { version?: string; name?: string } = {}): Promise<Forecaster> {
  let bytes: Buffer;
  try {
    bytes = await readFile(modelPath);
  } catch (err) {
    throw new ModelLoadError(modelPath, `cannot read the model file: ${fileErrorReason(err)}`);
  }
  let metadata: Record<string, string>;
  try {
    metadata = readOnnxMetadata(bytes);
  } catch (err) {
    throw new ModelLoadError(modelPath, `not an ONNX model (${(err as Error).message})`);
  }
  const contract = parseForecastContract(metadata);
  if (typeof contract === 'string') throw new ModelLoadError(modelPath, contract);

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      // One thread: a window is 60 numbers, so spreading a run over threads costs more than it saves,
      // and the detector needs the cores.
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // Failures reach the caller as errors; onnxruntime's own log lines would only repeat them on stderr.
      logSeverityLevel: 4,
    });
  } catch (err) {
    throw new ModelLoadError(modelPath, `onnxruntime cannot load it (${(err as Error).message})`);
  }
  const problem = signatureProblem(session, contract.window);
  if (problem) {
    await session.release();
    throw new ModelLoadError(modelPath, problem);
  }
  const info: ModelInfo = {
    name: options.name ?? (metadata.name || basename(modelPath, '.onnx')),
    version: options.version ?? (metadata.version || 'unversioned'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    path: modelPath,
  };
  return new OnnxForecaster(session, info, contract, parseLevelRange(metadata));
}
