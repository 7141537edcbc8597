/**
 * The only door to onnxruntime-node (ESLint refuses a value import of it anywhere else): telemetry-off.ts
 * is evaluated before the library, because ES modules evaluate their imports in order.
 */
import './telemetry-off.js';

export * from 'onnxruntime-node';
