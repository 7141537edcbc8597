/** Types of layers.js (plain JavaScript, so that eslint.config.js can load it without a build). */
export function layerViolation(from: string, to: string): string | null;
declare const plugin: { rules: Record<string, unknown> };
export default plugin;
