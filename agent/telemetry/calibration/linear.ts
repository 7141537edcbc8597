/**
 * Linear least squares (optionally ridge-penalised), solved by Cholesky on the normal equations, plus
 * the error measure everything is judged by. The room models calibrated on the device are fitted with
 * it (agent/telemetry/calibration/), and so are the baselines of the shipped forecaster (scripts/train/).
 *
 * Only + - * / and sqrt (all correctly rounded in IEEE 754) in a fixed loop order: the same data gives
 * bit-identical results on any machine.
 */

export interface LinearModel {
  weights: Float64Array;
  bias: number;
}

export interface LinearFitOptions {
  /** Ridge penalty on the weights (never on the intercept); 0 = plain least squares. */
  lambda?: number;
  /** Fit an intercept (default) or force the bias to 0. */
  intercept?: boolean;
}

/** Dot product of a row of features with the weights, plus the bias. */
export function predictLinear(model: LinearModel, features: ArrayLike<number>): number {
  let sum = model.bias;
  for (let j = 0; j < model.weights.length; j++) sum += (model.weights[j] as number) * (features[j] as number);
  return sum;
}

/** Solves A x = b for a symmetric positive definite A (row-major, n x n) by Cholesky. */
export function solveSymmetric(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j] as number;
      for (let k = 0; k < j; k++) sum -= (l[i * n + k] as number) * (l[j * n + k] as number);
      if (i === j) {
        if (!(sum > 0)) throw new Error(`normal equations are not positive definite (pivot ${i} is ${sum}); add ridge regularisation`);
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / (l[j * n + j] as number);
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i] as number;
    for (let k = 0; k < i; k++) sum -= (l[i * n + k] as number) * (y[k] as number);
    y[i] = sum / (l[i * n + i] as number);
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i] as number;
    for (let k = i + 1; k < n; k++) sum -= (l[k * n + i] as number) * (x[k] as number);
    x[i] = sum / (l[i * n + i] as number);
  }
  return x;
}

/**
 * Training rows read one at a time, so a fit never needs them all in memory (weeks of a room's windows
 * on a Pi): row `r` is written into `into` (`width` values), its target returned by `target(r)`.
 */
export interface RowSource {
  count: number;
  width: number;
  row(r: number, into: Float64Array): void;
  target(r: number): number;
}

function columnMeans(source: RowSource): [Float64Array, number] {
  const n = source.width;
  const mean = new Float64Array(n);
  const row = new Float64Array(n);
  let targetMean = 0;
  for (let r = 0; r < source.count; r++) {
    source.row(r, row);
    for (let j = 0; j < n; j++) mean[j] = (mean[j] as number) + (row[j] as number);
    targetMean += source.target(r);
  }
  for (let j = 0; j < n; j++) mean[j] = (mean[j] as number) / source.count;
  return [mean, targetMean / source.count];
}

/** Rows held in memory, as a RowSource. */
export function arrayRows(rows: readonly Float64Array[], targets: ArrayLike<number>): RowSource {
  return {
    count: rows.length,
    width: rows.length > 0 ? (rows[0] as Float64Array).length : 0,
    row: (r, into) => into.set(rows[r] as Float64Array),
    target: (r) => targets[r] as number,
  };
}

/** `fitLinearRows` over rows in memory. */
export function fitLinear(rows: readonly Float64Array[], targets: Float64Array, options: LinearFitOptions = {}): LinearModel {
  return fitLinearRows(arrayRows(rows, targets), options);
}

/**
 * Minimises sum (w.x + b - y)^2 + lambda |w|^2. With an intercept the columns are centred first, which
 * leaves the intercept out of the penalty and keeps the normal equations well conditioned (the raw lags
 * all sit near 21 °C and are nearly collinear). Two passes over the rows; memory is width^2.
 */
export function fitLinearRows(source: RowSource, options: LinearFitOptions = {}): LinearModel {
  const { lambda = 0, intercept = true } = options;
  if (source.count === 0) throw new Error('no training rows');
  const n = source.width;
  const [mean, targetMean] = intercept ? columnMeans(source) : [new Float64Array(n), 0];

  const gram = new Float64Array(n * n);
  const moment = new Float64Array(n);
  const row = new Float64Array(n);
  const centred = new Float64Array(n);
  for (let r = 0; r < source.count; r++) {
    source.row(r, row);
    for (let j = 0; j < n; j++) centred[j] = (row[j] as number) - (mean[j] as number);
    const t = source.target(r) - targetMean;
    for (let i = 0; i < n; i++) {
      const ci = centred[i] as number;
      moment[i] = (moment[i] as number) + ci * t;
      for (let j = 0; j <= i; j++) gram[i * n + j] = (gram[i * n + j] as number) + ci * (centred[j] as number);
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) gram[j * n + i] = gram[i * n + j] as number;
    gram[i * n + i] = (gram[i * n + i] as number) + lambda;
  }
  const weights = solveSymmetric(gram, moment, n);
  let bias = targetMean;
  for (let j = 0; j < n; j++) bias -= (weights[j] as number) * (mean[j] as number);
  return { weights, bias };
}

export function meanAbsoluteError(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs((predicted[i] as number) - (actual[i] as number));
  return sum / actual.length;
}
