/**
 * `npm run train:forecast`: trains the temperature forecaster on the UCI occupancy files, checks that
 * onnxruntime reproduces the script's predictions and that the model beats the baselines, then writes
 * models/temperature-forecast.onnx and its model card. `--search` prints the cross-validation scores
 * the network's settings were chosen from instead (several minutes).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot, shippedModelPath } from '../../agent/lib/paths.js';
import { renderModelCard } from './forecast-card.js';
import { buildForecastOnnx, formatCelsius, largestOnnxDeviation, MODEL_NAME } from './forecast-onnx.js';
import { crossValidate, fitters, FOLDS, NETWORK_CONFIG, occupancyExamples, predictCelsius, trainForecaster, type Fitter, type TrainedForecaster } from './forecast-training.js';

const USAGE = `usage: node dist/scripts/train/train-forecast.js [--data DIR] [--out DIR] [--search]
  --data DIR   folder with datatraining.txt and datatest.txt (default: ../shared/fixtures/data/occupancy)
  --out DIR    where to write ${MODEL_NAME}.onnx and .md (default: the package's models/)
  --search     print the cross-validation scores the network's settings were chosen from, write nothing`;

/** onnxruntime computes in float32; anything beyond this means the graph does not match the weights. */
const ONNX_TOLERANCE_CELSIUS = 1e-4;
/** The bar: at least 20% below persistence, and no worse than least squares on the lags (either variant). */
const REQUIRED_GAIN_OVER_PERSISTENCE = 0.2;

function defaultDataDir(): string {
  const fixtures = process.env.EDGE_AGENT_FIXTURES ?? join(packageRoot(), '..', 'shared', 'fixtures');
  return join(fixtures, 'data', 'occupancy');
}

function qualityProblems(trained: TrainedForecaster): string[] {
  const { model, persistence, leastSquares, leastSquaresNoIntercept } = trained.metrics;
  const problems: string[] = [];
  if (model > persistence * (1 - REQUIRED_GAIN_OVER_PERSISTENCE)) {
    problems.push(`MAE ${formatCelsius(model)} is not ${REQUIRED_GAIN_OVER_PERSISTENCE * 100}% below persistence ${formatCelsius(persistence)}`);
  }
  const bestLinear = Math.min(leastSquares, leastSquaresNoIntercept);
  if (model > bestLinear) problems.push(`MAE ${formatCelsius(model)} is worse than least squares ${formatCelsius(bestLinear)}`);
  return problems;
}

async function train(dataDir: string, outDir: string): Promise<number> {
  const [trainingCsv, testCsv] = await Promise.all([readFile(join(dataDir, 'datatraining.txt'), 'utf8'), readFile(join(dataDir, 'datatest.txt'), 'utf8')]);
  const trained = trainForecaster(trainingCsv, testCsv);
  const modelBytes = buildForecastOnnx(trained);
  const expected = trained.test.windows.map((w) => predictCelsius(trained.model, w));
  const deviation = await largestOnnxDeviation(modelBytes, trained.test.windows, expected);
  const { metrics, counts } = trained;
  console.log(`windows: ${counts.trainingWindows} training, ${counts.testWindows} test`);
  console.log(
    `MAE on datatest.txt: model ${formatCelsius(metrics.model)}, persistence ${formatCelsius(metrics.persistence)}, ` +
      `least squares ${formatCelsius(metrics.leastSquares)} (without intercept ${formatCelsius(metrics.leastSquaresNoIntercept)})`,
  );
  console.log(`onnxruntime vs script: largest difference ${deviation.toExponential(2)} °C`);

  const problems = qualityProblems(trained);
  if (deviation > ONNX_TOLERANCE_CELSIUS) problems.push(`onnxruntime differs from the script by ${deviation} °C (over ${ONNX_TOLERANCE_CELSIUS})`);
  if (problems.length > 0) {
    console.error(`train-forecast: not writing the model: ${problems.join('; ')}`);
    return 1;
  }
  const modelPath = join(outDir, `${MODEL_NAME}.onnx`);
  const cardPath = join(outDir, `${MODEL_NAME}.md`);
  await writeFile(modelPath, modelBytes);
  await writeFile(cardPath, renderModelCard(trained, modelBytes));
  console.log(`wrote ${modelPath} (${modelBytes.length} bytes) and ${cardPath}`);
  return 0;
}

async function search(dataDir: string): Promise<number> {
  const { examples } = occupancyExamples(await readFile(join(dataDir, 'datatraining.txt'), 'utf8'), 'datatraining.txt');
  const candidates: [string, Fitter][] = [
    ['persistence', fitters.persistence()],
    ['least squares, 60 lags + intercept', fitters.leastSquares(true)],
    ['least squares, 60 lags, no intercept', fitters.leastSquares(false)],
  ];
  for (const hidden of [4, 8, 16]) {
    for (const epochs of [15, 30]) {
      const config = { ...NETWORK_CONFIG, mlp: { ...NETWORK_CONFIG.mlp, hidden, epochs } };
      const shipped = hidden === NETWORK_CONFIG.mlp.hidden && epochs === NETWORK_CONFIG.mlp.epochs ? ' (shipped)' : '';
      candidates.push([`${NETWORK_CONFIG.members} x ReLU network, ${hidden} hidden, ${epochs} epochs${shipped}`, fitters.network(config)]);
    }
  }
  console.log(`blocked ${FOLDS}-fold cross-validation within datatraining.txt, MAE (°C):`);
  for (const [name, fit] of candidates) console.log(`${formatCelsius(crossValidate(examples, fit, FOLDS))}  ${name}`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { data: { type: 'string' }, out: { type: 'string' }, search: { type: 'boolean' }, help: { type: 'boolean' } }, strict: true }));
  } catch (err) {
    console.error(`train-forecast: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const dataDir = resolve(values.data ?? defaultDataDir());
  if (values.search) return search(dataDir);
  return train(dataDir, resolve(values.out ?? shippedModelPath('')));
}

process.exitCode = await main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`train-forecast: ${err instanceof Error ? err.message : String(err)}`);
  return 1;
});
