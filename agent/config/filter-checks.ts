/**
 * A class filter whose range is empty (`min_area` above `max_area`, or the ratios) would silently never
 * let a box of that class count. The value in force is looked up as the agent does: the class's own value,
 * else the default filter's; with a camera's own filters (`cameras.<name>.filters`), the camera's class
 * value, else the shared class value, else the camera's default, else the shared default.
 */
import { section, type KeyPath as Path, type Obj, type ReportAt as Report } from './config-values.js';

/** A filters section (`default` and one section a class) and where it is. */
export interface FilterLayer {
  filters: Obj;
  path: Path;
}

const RANGES = [['min_area', 'max_area'], ['min_ratio', 'max_ratio']] as const;

const isSet = (value: unknown): value is number => typeof value === 'number';

interface Source {
  /** 0: the first (most specific) layer. */
  layer: number;
  /** The class's own section, not a `default` one. */
  own: boolean;
  at: Path;
  values: Obj;
}

/** `layers`: the most specific first (a camera's filters, then `intruder.filters`); a problem is reported where the first layer set one of its two values. */
export function emptyRangeProblems(layers: readonly FilterLayer[], report: Report): void {
  const first = layers[0];
  if (!first) return;
  for (const label of Object.keys(first.filters)) {
    // Where each value is looked up, in order: the class in every layer, then every layer's default.
    const rows = (own: boolean, name: string): Source[] => layers.map((l, layer) => ({ layer, own, at: [...l.path, name], values: section(l.filters, name) }));
    const sources = [...rows(true, label), ...rows(false, 'default')];
    for (const [low, high] of RANGES) {
      const min = sources.find((s) => isSet(s.values[low]));
      const max = sources.find((s) => isSet(s.values[high]));
      if (!min || !max || (min.values[low] as number) <= (max.values[high] as number)) continue;
      const mine = [
        { source: min, key: low },
        { source: max, key: high },
      ].filter(({ source }) => source.layer === 0);
      const where = mine.find(({ source }) => source.own) ?? mine[0];
      if (!where) continue;
      report([...where.source.at, where.key], `leaves no ${label} box that counts: ${low} ${String(min.values[low])} is above ${high} ${String(max.values[high])}`);
    }
  }
}
