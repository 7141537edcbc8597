/**
 * The agent's configuration as the rest of the code sees it: every key present, defaults applied,
 * validated. agent/config/schema.ts holds the JSON Schema (descriptions, defaults, ranges) that produces
 * it from YAML/JSON/env, typed against these interfaces: a schema leaf that disagrees with its type here
 * does not compile. Enumerations are defined once, as lists, and their types derived from them.
 */

import type { CameraOptions } from '../../drivers/camera/index.js';
import type { AlarmOutputOptions } from '../../drivers/gpio/index.js';
import type { SensorOptions } from '../../drivers/sensors/index.js';
import type { LOG_LEVELS } from './schema.js';

export type LogLevel = (typeof LOG_LEVELS)[number];

/** Each driver owns its options; the configuration composes them. */
export type CameraConfig = CameraOptions;
export type SensorConfig = SensorOptions;

export interface AlarmConfig extends AlarmOutputOptions {
  hold_s: number;
  /** Zone names (`intruder.zones`): the alarm sounds only for an object in one of them; empty = anywhere. */
  zones: string[];
}

/** A point of the frame as fractions (0..1) of its width and height: survives a resolution change. */
export type FramePoint = [number, number];
/** A polygon of at least three points (closed implicitly; even-odd rule). */
export type FramePolygon = FramePoint[];

export interface ZoneConfig {
  name: string;
  points: FramePolygon;
  /** Classes that count in the zone; absent or empty = every intruder class. */
  classes?: string[];
  /** Consecutive frames an object's bottom centre must be inside before it is in the zone (default 3). */
  inertia?: number;
}

export interface MotionConfig {
  enabled: boolean;
  /** Fraction (0..1) of the downscaled frame's pixels that must change to count as motion. */
  threshold: number;
  /** Run the detector at least this often even without motion. */
  max_skip_s: number;
  /** Areas the gate ignores (a timestamp overlay, a tree in the wind). */
  masks: FramePolygon[];
}

export interface SnapshotConfig {
  enabled: boolean;
  /** Snapshots kept on disk (oldest removed first). */
  max_files: number;
}

export interface IntruderConfig {
  enabled: boolean;
  /** Path of an ONNX model; null = the active `intruder` model of the registry under data_dir. */
  model: string | null;
  threshold: number;
  /** NMS IoU threshold. */
  iou: number;
  classes: string[];
  clear_after_s: number;
  cooldown_s: number;
  /** onnxruntime intra-op threads; null = all cores. */
  threads: number | null;
  snapshot: SnapshotConfig;
  tracking: TrackingConfig;
  stationary: StationaryConfig;
  regions: RegionsConfig;
  filters: FiltersConfig;
  zones: ZoneConfig[];
  /** An object alerts only once it has entered one of these zones; empty = anywhere. */
  required_zones: string[];
  /** A detection whose bottom centre falls inside one of these is ignored. */
  masks: FramePolygon[];
}

/** Detection on motion regions (agent/vision/detection-plan.ts). */
export interface RegionsConfig {
  enabled: boolean;
  /** The whole frame runs at least this often while motion goes to regions. */
  full_frame_every_s: number;
  /** Smallest region side, as a fraction of the model's input size. */
  min_size: number;
}

export interface TrackingConfig {
  /** Frames a track must be seen on before it can be confirmed. */
  min_frames: number;
  /** A track not seen for this long is dropped. */
  expire_after_s: number;
}

export interface StationaryConfig {
  after_s: number;
  /** Fraction of the box's width / height its centre may wander and still be still. */
  tolerance: number;
  /** While only stationary objects are watched, the detector runs on every this many frames. */
  recheck_every_frames: number;
}

/** When a detection counts, and which median score confirms a track (agent/vision/object-tracker.ts). */
export interface ClassFilterConfig {
  min_score: number;
  threshold: number;
  /** Fractions (0..1) of the frame. */
  min_area: number;
  max_area: number;
  /** Width / height of the box. */
  min_ratio: number;
  max_ratio: number;
}

/** A class's own values; null = the `default` filter's. */
export type ClassFilterOverrides = { [K in keyof ClassFilterConfig]: number | null };

/** A camera's own filter values, by class (`cameras.<name>.filters`); null = `intruder.filters`' value. */
export type CameraFiltersConfig = { [K in keyof FiltersConfig]: ClassFilterOverrides };

/**
 * One camera of `cameras` (several cameras per agent): its driver settings, and the zones, masks and
 * filters that belong to its own frame. agent/vision/camera-profiles.ts turns it into what a pipeline reads.
 */
export interface CameraEntryConfig extends CameraOptions {
  zones: ZoneConfig[];
  required_zones: string[];
  /** Object masks of this camera's frame. */
  masks: FramePolygon[];
  /** Motion masks of this camera's frame. */
  motion_masks: FramePolygon[];
  /** Zones of this camera whose objects sound the alarm; empty = anywhere. */
  alarm_zones: string[];
  filters: CameraFiltersConfig;
}

export interface FiltersConfig {
  /** Every class without its own section, and every key a class section leaves null. */
  default: ClassFilterConfig;
  person: ClassFilterOverrides;
  dog: ClassFilterOverrides;
  cat: ClassFilterOverrides;
  bear: ClassFilterOverrides;
}


export interface ForecastFallbackConfig {
  /** Serve persistence while the model has been worse than it over the last 24 h. */
  enabled: boolean;
  /** Forecasts scored in the last 24 h before the model's errors count. */
  min_scored: number;
  /** How much worse than persistence (a fraction) the model must be before persistence is served. */
  margin: number;
}

export interface CalibrationConfig {
  /** Fit a model for this room on the device and promote it when it wins. */
  enabled: boolean;
  /** Days of readings before the first calibration. */
  min_days: number;
  /** Days between calibrations after a promotion. */
  every_days: number;
  /** Days before trying again after a candidate lost (or the run failed). */
  retry_days: number;
  /** The most recent days of readings a calibration uses. */
  max_days: number;
  /** Fraction by which a candidate must beat the active model on the held-out day. */
  margin: number;
}

export interface ForecastConfig {
  enabled: boolean;
  /** Path of an ONNX model; null = the registry's active `forecast` model, else the shipped one. */
  model: string | null;
  every_s: number;
  high_c: number | null;
  low_c: number | null;
  /** A threshold alert clears once the forecast is back this far inside the threshold. */
  hysteresis_c: number;
  fallback: ForecastFallbackConfig;
  calibration: CalibrationConfig;
}

export interface EmbeddedBrokerConfig {
  /** Resolved by the loader: `auto` (the default) is on exactly when no `mqtt.url` was given. */
  enabled: boolean;
  host: string;
  port: number;
}

/** Fleet provisioning by claim (agent/mqtt/provisioning/); template null = off. */
export interface AwsProvisioningConfig {
  template: string | null;
  claim_cert: string | null;
  claim_key: string | null;
  /** `Name=value` pairs given to the template. */
  parameters: string[];
}

export interface MqttConfig {
  /** One broker, or several tried in order (failover); brokerUrls() in agent/mqtt/client-options.ts reads it as a list. */
  url: string | string[];
  /** Base topic is `<prefix>/<device_id>`; with the AWS profile the default prefix is `things`. */
  prefix: string;
  /** null = `edge-agent-<device_id>` (the thing name with the AWS profile). */
  client_id: string | null;
  username: string | null;
  password_file: string | null;
  /** PEM file paths. */
  ca: string | null;
  cert: string | null;
  key: string | null;
  aws_iot: { thing_name: string | null; provisioning: AwsProvisioningConfig };
  embedded_broker: EmbeddedBrokerConfig;
  keepalive_s: number;
  /** Outbox rows published and not yet acknowledged, at most. */
  max_inflight: number;
}

export interface StoreConfig {
  max_outbox_rows: number;
  retention_days: number;
}

export interface HttpConfig {
  enabled: boolean;
  host: string;
  port: number;
  api_keys: string[];
  rate_limit: { enabled: boolean; per_second: number; burst: number };
  /** Inference requests waiting at most; beyond it 503. */
  max_queue: number;
  /** Items per batch request at most (also bounded by rate_limit.burst and max_queue). */
  max_batch_items: number;
  body_limit_bytes: number;
}

export interface OtaConfig {
  /** Ed25519 public key (PEM or path to a PEM file); when set, updates must be signed. */
  public_key: string | null;
  /** Extra CA bundle (PEM path) trusted for https:// model downloads. */
  ca: string | null;
  max_bytes: number;
  keep_versions: number;
  connect_timeout_s: number;
  read_timeout_s: number;
  /** Deadline of a whole download; null = derived from max_bytes at a minimum rate (agent/ota/setup.ts). */
  download_timeout_s: number | null;
  /** Accept remote updates without a signature when no public key is set (default false: refuse them). */
  allow_unsigned_remote_updates: boolean;
}

export interface WatchdogConfig {
  /** A pipeline that has not advanced for this long withholds systemd's watchdog ping. */
  stall_s: number;
  /** An event loop answering later than this withholds the ping. */
  max_lag_s: number;
}

export interface HomeAssistantConfig {
  enabled: boolean;
  discovery_prefix: string;
}

export interface DiagnosticsConfig {
  /** Seconds between two `<base>/diagnostics` messages. */
  interval_s: number;
  /** The CPU temperature in millidegrees Celsius (Linux thermal zone); unreadable: left out. */
  cpu_temperature_file: string;
}

export interface RemoteConfigConfig {
  /** Accept `cmd/config/set` (off by default: topic access is then the only authentication). */
  enabled: boolean;
}

export interface AgentConfig {
  device_id: string;
  data_dir: string;
  log_level: LogLevel;
  camera: CameraConfig;
  /** Several cameras by name; empty = the one camera of `camera`. */
  cameras: Record<string, CameraEntryConfig>;
  motion: MotionConfig;
  intruder: IntruderConfig;
  sensor: SensorConfig;
  forecast: ForecastConfig;
  mqtt: MqttConfig;
  alarm: AlarmConfig;
  store: StoreConfig;
  http: HttpConfig;
  ota: OtaConfig;
  homeassistant: HomeAssistantConfig;
  diagnostics: DiagnosticsConfig;
  remote_config: RemoteConfigConfig;
  watchdog: WatchdogConfig;
}
