/**
 * A one-hidden-layer ReLU network trained with Adam on a Huber loss, and ensembles of them folded into
 * a single wider network for export.
 *
 * Reproducible to the bit on any machine: a seeded integer PRNG, and only + - * / sqrt, comparisons
 * and loops in a fixed order (no Math.exp/log/pow, whose last bit may differ between platforms).
 */

export interface MlpOptions {
  hidden: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L2 penalty on the weights (not the biases), added to the gradient. */
  weightDecay: number;
  /** Residuals beyond this many target standard deviations count linearly (Huber loss). */
  huberDelta: number;
  seed: number;
}

/** A trained network with the input and target scaling it was trained under. */
export interface Mlp {
  inputs: number;
  hidden: number;
  inputMean: Float64Array;
  inputScale: Float64Array;
  targetMean: number;
  targetScale: number;
  /** hidden x inputs, row-major. */
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: number;
}

/** The same function as a plain network on unscaled inputs: out = b2 + w2 . relu(W1 x + b1). */
export interface FoldedMlp {
  inputs: number;
  hidden: number;
  /** inputs x hidden, row-major: the layout of ONNX MatMul(x [batch, inputs], W1). */
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: number;
}

/** mulberry32: a small, fast, well-mixed 32-bit generator; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function meanAndScale(values: (i: number) => number, count: number): [number, number] {
  let mean = 0;
  for (let i = 0; i < count; i++) mean += values(i);
  mean /= count;
  let variance = 0;
  for (let i = 0; i < count; i++) variance += (values(i) - mean) * (values(i) - mean);
  const scale = Math.sqrt(variance / count);
  return [mean, scale > 0 ? scale : 1];
}

/** Adam over one flat parameter vector; bias corrections kept as running products (no pow). */
class Adam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private beta1Power = 1;
  private beta2Power = 1;

  constructor(
    private readonly params: Float64Array,
    private readonly learningRate: number,
  ) {
    this.m = new Float64Array(params.length);
    this.v = new Float64Array(params.length);
  }

  step(gradient: Float64Array): void {
    this.beta1Power *= 0.9;
    this.beta2Power *= 0.999;
    const c1 = 1 - this.beta1Power;
    const c2 = 1 - this.beta2Power;
    for (let i = 0; i < this.params.length; i++) {
      const g = gradient[i] as number;
      const m = 0.9 * (this.m[i] as number) + 0.1 * g;
      const v = 0.999 * (this.v[i] as number) + 0.001 * g * g;
      this.m[i] = m;
      this.v[i] = v;
      this.params[i] = (this.params[i] as number) - (this.learningRate * (m / c1)) / (Math.sqrt(v / c2) + 1e-8);
    }
  }
}

export function trainMlp(rows: readonly Float64Array[], targets: Float64Array, options: MlpOptions): Mlp {
  const count = rows.length;
  const inputs = (rows[0] as Float64Array).length;
  const { hidden, batchSize, weightDecay, huberDelta } = options;
  const random = seededRandom(options.seed);

  const inputMean = new Float64Array(inputs);
  const inputScale = new Float64Array(inputs);
  for (let j = 0; j < inputs; j++) [inputMean[j], inputScale[j]] = meanAndScale((i) => (rows[i] as Float64Array)[j] as number, count);
  const [targetMean, targetScale] = meanAndScale((i) => targets[i] as number, count);
  const scaled = rows.map((row) => row.map((x, j) => (x - (inputMean[j] as number)) / (inputScale[j] as number)));
  const scaledTargets = targets.map((y) => (y - targetMean) / targetScale);

  // One flat vector [w1 | b1 | w2 | b2] so a single Adam steps everything.
  const params = new Float64Array(hidden * inputs + hidden + hidden + 1);
  const w2Offset = hidden * inputs + hidden;
  const heLimit = Math.sqrt(6 / inputs);
  const outLimit = Math.sqrt(6 / (hidden + 1));
  for (let i = 0; i < hidden * inputs; i++) params[i] = (2 * random() - 1) * heLimit;
  for (let k = 0; k < hidden; k++) params[w2Offset + k] = (2 * random() - 1) * outLimit;

  const optimizer = new Adam(params, options.learningRate);
  const gradient = new Float64Array(params.length);
  const activation = new Float64Array(hidden);
  const order = Array.from({ length: count }, (_, i) => i);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (let start = 0; start < count; start += batchSize) {
      const end = Math.min(count, start + batchSize);
      gradient.fill(0);
      for (let q = start; q < end; q++) {
        const index = order[q] as number;
        const x = scaled[index] as Float64Array;
        let out = params[params.length - 1] as number;
        for (let k = 0; k < hidden; k++) {
          let a = params[hidden * inputs + k] as number;
          for (let j = 0; j < inputs; j++) a += (params[k * inputs + j] as number) * (x[j] as number);
          const h = a > 0 ? a : 0;
          activation[k] = h;
          out += (params[w2Offset + k] as number) * h;
        }
        // Huber gradient: the residual, clipped to +-delta; averaged over the batch.
        const residual = out - (scaledTargets[index] as number);
        const d = (residual > huberDelta ? huberDelta : residual < -huberDelta ? -huberDelta : residual) / (end - start);
        gradient[params.length - 1] = (gradient[params.length - 1] as number) + d;
        for (let k = 0; k < hidden; k++) {
          const h = activation[k] as number;
          gradient[w2Offset + k] = (gradient[w2Offset + k] as number) + d * h;
          if (h <= 0) continue;
          const dk = d * (params[w2Offset + k] as number);
          gradient[hidden * inputs + k] = (gradient[hidden * inputs + k] as number) + dk;
          for (let j = 0; j < inputs; j++) gradient[k * inputs + j] = (gradient[k * inputs + j] as number) + dk * (x[j] as number);
        }
      }
      for (let i = 0; i < hidden * inputs; i++) gradient[i] = (gradient[i] as number) + weightDecay * (params[i] as number);
      for (let k = 0; k < hidden; k++) gradient[w2Offset + k] = (gradient[w2Offset + k] as number) + weightDecay * (params[w2Offset + k] as number);
      optimizer.step(gradient);
    }
  }
  return {
    inputs,
    hidden,
    inputMean,
    inputScale,
    targetMean,
    targetScale,
    w1: params.slice(0, hidden * inputs),
    b1: params.slice(hidden * inputs, w2Offset),
    w2: params.slice(w2Offset, w2Offset + hidden),
    b2: params[params.length - 1] as number,
  };
}

/**
 * The average of the members as one network on raw inputs: the input scaling moves into W1 and b1,
 * the target scaling into w2 and b2, and averaging K networks is one network with all their hidden
 * units and output weights divided by K.
 */
export function foldEnsemble(members: readonly Mlp[]): FoldedMlp {
  const inputs = (members[0] as Mlp).inputs;
  const hidden = members.reduce((sum, m) => sum + m.hidden, 0);
  const w1 = new Float64Array(inputs * hidden);
  const b1 = new Float64Array(hidden);
  const w2 = new Float64Array(hidden);
  let b2 = 0;
  let unit = 0;
  for (const m of members) {
    for (let k = 0; k < m.hidden; k++, unit++) {
      let bias = m.b1[k] as number;
      for (let j = 0; j < inputs; j++) {
        const weight = (m.w1[k * inputs + j] as number) / (m.inputScale[j] as number);
        w1[j * hidden + unit] = weight;
        bias -= weight * (m.inputMean[j] as number);
      }
      b1[unit] = bias;
      w2[unit] = ((m.w2[k] as number) * m.targetScale) / members.length;
    }
    b2 += (m.b2 * m.targetScale + m.targetMean) / members.length;
  }
  return { inputs, hidden, w1, b1, w2, b2 };
}

export function predictFolded(net: FoldedMlp, x: ArrayLike<number>): number {
  let out = net.b2;
  for (let k = 0; k < net.hidden; k++) {
    let a = net.b1[k] as number;
    for (let j = 0; j < net.inputs; j++) a += (net.w1[j * net.hidden + k] as number) * (x[j] as number);
    if (a > 0) out += (net.w2[k] as number) * a;
  }
  return out;
}
