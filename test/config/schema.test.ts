/**
 * What the configuration schema takes from elsewhere instead of repeating it: the drivers' names and the
 * camera's ranges. And that it is typed against AgentConfig leaf by leaf: the `@ts-expect-error` lines
 * below fail `npm run typecheck` the day a mismatch stops being a compile error.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError, ConfigLoader, defaultConfig } from '../../agent/config/load.js';
import { configSchema, type TypedLeaf, type TypedSection } from '../../agent/config/schema.js';
import type { CameraConfig, LogLevel } from '../../agent/config/types.js';
import { silentLogger } from '../../agent/lib/log.js';
import { CAMERA_DRIVERS, CAMERA_LIMITS, CameraConfigError, createCamera } from '../../drivers/camera/index.js';
import { SENSOR_DRIVERS } from '../../drivers/sensors/index.js';

const camera = configSchema.properties.camera.properties;

describe('the camera section', () => {
  it('takes every numeric range from the camera driver', () => {
    for (const [key, range] of Object.entries(CAMERA_LIMITS)) {
      const leaf = camera[key as keyof typeof CAMERA_LIMITS];
      expect({ key, type: leaf.type, minimum: leaf.minimum, maximum: leaf.maximum }).toEqual({
        key,
        type: range.integer ? 'integer' : 'number',
        minimum: range.min,
        maximum: range.max,
      });
    }
  });

  it('accepts exactly what the driver accepts, at both ends of each range', () => {
    const loader = new ConfigLoader();
    const inRange = (overrides: Partial<CameraConfig>): { config: boolean; driver: boolean } => {
      let config = true;
      let driver = true;
      try {
        loader.load({ env: {}, overrides: { camera: { driver: 'rpicam', ...overrides } } });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        config = false;
      }
      try {
        createCamera({ ...defaultConfig().camera, driver: 'rpicam', ...overrides }, { logger: silentLogger() });
      } catch (err) {
        if (!(err instanceof CameraConfigError)) throw err;
        driver = false;
      }
      return { config, driver };
    };
    for (const [key, { min, max, integer }] of Object.entries(CAMERA_LIMITS)) {
      const step = integer ? 1 : 0.001;
      for (const value of [min, max]) expect({ key, value, ...inRange({ [key]: value }) }).toEqual({ key, value, config: true, driver: true });
      for (const value of [min - step, max + step]) expect({ key, value, ...inRange({ [key]: value }) }).toEqual({ key, value, config: false, driver: false });
    }
  });

  it('lists the drivers the driver packages export, and no other', () => {
    expect(camera.driver.enum).toEqual(CAMERA_DRIVERS);
    expect(configSchema.properties.sensor.properties.driver.enum).toEqual(SENSOR_DRIVERS);
  });
});

describe('the schema\'s types', () => {
  it('are those of AgentConfig, leaf by leaf', () => {
    expectTypeOf(configSchema.properties.log_level).toEqualTypeOf<TypedLeaf<LogLevel>>();
    expectTypeOf(camera.width).toEqualTypeOf<TypedLeaf<number>>();
    expectTypeOf(configSchema.properties.intruder.properties.threads).toEqualTypeOf<TypedLeaf<number | null>>();
    expectTypeOf(configSchema.properties.camera).toEqualTypeOf<TypedSection<CameraConfig>>();
  });

  it('refuse a leaf of another type, nullability or set of values (compile errors)', () => {
    const leaf = <T>(value: T): TypedLeaf<T> => ({ type: 'x', description: 'x', default: value }) as TypedLeaf<T>;
    // @ts-expect-error a string leaf where the type is a number
    const wrongType: TypedLeaf<number> = leaf<string>('8080');
    // @ts-expect-error a leaf that may be null where the type may not
    const nullable: TypedLeaf<number> = leaf<number | null>(null);
    // @ts-expect-error a leaf that may not be null where the type may (a missing "null = not set")
    const notNullable: TypedLeaf<number | null> = leaf<number>(1);
    // @ts-expect-error an enum with a value the type does not have
    const extraValue: TypedLeaf<0 | 180> = leaf<0 | 90 | 180>(0);
    // @ts-expect-error an enum without a value the type has
    const missingValue: TypedLeaf<0 | 180> = leaf<0>(0);
    // @ts-expect-error a section without one of the type's keys
    const missingKey: TypedSection<{ a: number; b: number }> = { type: 'object', description: 'x', default: {}, additionalProperties: false, properties: { a: leaf(1) } };
    expect([wrongType, nullable, notNullable, extraValue, missingValue, missingKey]).toHaveLength(6);
  });
});
