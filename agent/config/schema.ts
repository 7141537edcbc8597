/**
 * The JSON Schema of the configuration file: every key of AgentConfig (agent/config/types.ts) with a
 * description, its default and its range. The loader (agent/config/load.ts) validates against it, the
 * environment overrides are derived from it, and docs/configuration.md is generated from it.
 *
 * The schema is typed against AgentConfig: a key missing or extra, or a leaf whose type disagrees with
 * the type's (a number for a string, nullable or not, other enum values) is a compile error. Each leaf
 * builder returns a `TypedLeaf<T>` for exactly the T it validates, and `Properties<T>` asks for exactly
 * `TypedLeaf<T[K]>` (invariant: `number` is not accepted for `number | null`, nor the other way).
 */
import { hostname } from 'node:os';
import { SENSOR_DRIVERS } from '../../drivers/sensors/index.js';
import type { AgentConfig } from './types.js';
import { CAMERA_PROPERTIES, cameraMap } from './camera-schema.js';
import { autoBool, bool, filterSection, int, num, oneOf, optPath, optStr, overrides, polygons, section, str, stringOrList, strings, zoneNames, zones } from './schema-builders.js';
import type { AnySchema, SectionSchema, TypedSection } from './schema-types.js';

export type { AnySchema, LeafSchema, SecretKind, SectionSchema, TypedLeaf, TypedSection } from './schema-types.js';

/** A section has fixed keys; an object leaf (the `cameras` map) has named entries instead. */
export function isSection(schema: AnySchema): schema is SectionSchema {
  return schema.type === 'object' && 'properties' in schema;
}

/**
 * The longest duration a key takes. Node's timers hold at most 2^31-1 ms (24.8 days): a longer delay
 * fires after 1 ms instead (a sensor read every millisecond); a day is far beyond any sensible setting.
 */
export const DAY_S = 86_400;


/** A valid MQTT topic level: no separators or wildcards. */
const TOPIC_LEVEL = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$';

/** The host name, made a valid topic level (device_id's default). */
export function defaultDeviceId(): string {
  const name = hostname().replace(/[^A-Za-z0-9_.:-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return name.slice(0, 128) || 'edge-agent';
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const configSchema: TypedSection<AgentConfig> = section<AgentConfig>('edge-agent configuration', {
  device_id: str('Identifies this device in topics (`<prefix>/<device_id>/...`) and payloads. Letters, digits, `_ . : -`.', defaultDeviceId(), {
    pattern: TOPIC_LEVEL,
    'x-doc-default': 'the host name',
  }),
  data_dir: str('Folder for the database, snapshots and installed models (created if missing).', './data', { 'x-path': true }),
  log_level: oneOf('Least severe log level written (pino JSON on stdout).', LOG_LEVELS, 'info'),
  camera: section('Where frames come from: the agent\'s one camera (`cameras` for several).', CAMERA_PROPERTIES),
  cameras: cameraMap(
    'Several cameras by name (docs/camera.md, *Several cameras*): each entry takes the keys of `camera` plus its own zones, masks and filters (below). Leave `camera.driver` at `none` and the zone and mask keys of `intruder`, `motion` and `alarm` empty when you use it. Empty = the one camera of `camera`, named `main`.',
  ),
  motion: section('Motion gate in front of the detector: frames without motion skip inference.', {
    enabled: bool('Run the detector only on frames that differ from the previous one.', true),
    threshold: num('Fraction (0..1) of the downscaled frame that must change to count as motion.', 0.02, { min: 0, max: 1 }),
    max_skip_s: num('Run the detector at least this often, motion or not (0 = every frame).', 10, { min: 0, max: DAY_S }),
    masks: polygons('Areas the motion gate ignores (a timestamp overlay, a tree in the wind): polygons of [x, y] fractions (0..1) of the frame.'),
  }),
  intruder: section('The intruder detector (YOLOv8/YOLO11 ONNX).', {
    enabled: bool('Run intruder detection on camera frames.', true),
    model: optPath('ONNX model file; null = the active `intruder` model installed with `edge-agent models`.'),
    threshold: num('Minimum confidence of a detection: the detector\'s cut (and the HTTP API\'s); `filters` decide what counts for an alert.', 0.5, { above: 0, max: 1 }),
    iou: num('Non-maximum suppression IoU threshold.', 0.7, { above: 0, max: 1 }),
    classes: strings('Classes that count as intruders (COCO names).', ['person', 'dog', 'cat', 'bear'], 1),
    clear_after_s: num('An intrusion event ends after this many seconds without an intruder.', 30, { above: 0, max: DAY_S }),
    cooldown_s: num('After an event ends, a new one within this many seconds continues it instead of alerting again.', 30, { min: 0, max: DAY_S }),
    threads: int('onnxruntime intra-op threads; null = all cores.', null, 1, 64),
    snapshot: section('Annotated snapshot JPEGs of intrusions.', {
      enabled: bool('Keep a snapshot with boxes drawn and publish it retained on `<base>/snapshot`.', true),
      max_files: int('Snapshots kept on disk; the oldest are removed first.', 100, 1, 100_000),
    }),
    tracking: section('Objects are followed across frames; only a confirmed track raises an alert or the alarm (docs/detector.md).', {
      min_frames: int('Frames a track must be seen on before it can be confirmed: one bright frame never alerts. At 2 fps, 3 frames confirm 1 s after the first sighting.', 3, 1, 100),
      expire_after_s: num('A track not seen for this many seconds is dropped (an object seen again later is a new track).', 5, { above: 0, max: DAY_S }),
    }),
    stationary: section('Confirmed objects that stop moving: they keep an event open but raise no new alert and do not extend the alarm.', {
      after_s: num('A confirmed object whose box has not moved for this many seconds is stationary, until it moves again. Objects already there when the agent starts are stationary until they move.', 30, { above: 0, max: DAY_S }),
      tolerance: num('How far the box centre may wander (a fraction of the box\'s width and height) while the object counts as not moving.', 0.1, { above: 0, max: 10 }),
      recheck_every_frames: int('While an event is open, every confirmed object is stationary and no track is being confirmed, the detector re-checks the scene on every this many frames (motion still goes to it at once). 5 is 2.5 s at 2 fps, well inside `clear_after_s` and `tracking.expire_after_s` (5 s), so a stationary intruder keeps its track and its event; 1 = every frame.', 5, 1, 1000),
    }),
    regions: section('Detection on motion regions (docs/detector.md): a motion frame runs the model on squares around what moved (at least `min_size` of the model\'s input), instead of the whole frame shrunk to it, so small far objects stay large enough to be found.', {
      enabled: bool('Run the model on motion regions instead of the whole frame when only part of the scene moved.', true),
      full_frame_every_s: num('Run the whole frame at least this often while motion goes to regions (the whole frame also runs while an event is open and on the motion gate\'s forced checks).', 5, { min: 0, max: DAY_S }),
      min_size: num('Smallest region side, as a fraction of the model\'s input size: 1 runs small motions at their native scale (as Frigate); 0.5 enlarges them 2x, which is what lets the nano model find a person 40 px high (docs/detector.md).', 0.5, { min: 0.25, max: 1 }),
    }),
    filters: section('When a detection counts, and which score confirms a track, by class.', {
      default: filterSection('Every class (a class section below overrides a key it sets).', {
        min_score: num('A detection counts only at this score or above (detections under `intruder.threshold` never get here).', 0.5, { min: 0, max: 1 }),
        threshold: num('A track is confirmed when the median of its last (up to 10) scores reaches this.', 0.7, { min: 0, max: 1 }),
        min_area: num('Smallest box that counts, as a fraction (0..1) of the frame\'s area.', 0, { min: 0, max: 1 }),
        max_area: num('Largest box that counts, as a fraction (0..1) of the frame\'s area.', 1, { min: 0, max: 1 }),
        min_ratio: num('Smallest width / height of a box that counts.', 0, { min: 0 }),
        max_ratio: num('Largest width / height of a box that counts.', 100, { min: 0 }),
      }),
      person: overrides('person', {}),
      // Pets are the weakest evidence of an intruder and the commonest look-alike (a cat statue, a picture):
      // the fixture photos' dogs and cats score 0.84 to 0.92, while a dog photo hung sideways and a cat photo
      // upside down hold a median of 0.69 to 0.73 frame after frame (bench:confirmation, eval:vision).
      dog: overrides('dog', { threshold: 0.75 }),
      cat: overrides('cat', { threshold: 0.75 }),
      // Bears are rare where these cameras watch, and the model calls other things bears with confidence
      // (person.jpg turned 90 degrees: bear 0.87): a bear alert needs more evidence.
      bear: overrides('bear', { min_score: 0.6, threshold: 0.8 }),
    }),
    zones: zones('Named areas of the frame (docs/detector.md, *Zones and masks*): each object in an alert lists the zones its bottom centre is in.'),
    required_zones: zoneNames('An object alerts (and sounds the alarm) only once it has entered one of these zones; empty = anywhere in the frame.'),
    masks: polygons('Object masks: a detection whose bottom centre falls inside one of these polygons ([x, y] fractions of the frame) is ignored (a statue, a poster, a parked car).'),
  }),
  sensor: section('The temperature sensor.', {
    driver: oneOf('A chip on I2C (`bme280`, `bmp280`, `sht3x`, `sht4x`, `mcp9808`, `tmp117`, `tmp102`, `aht20`), `ds18b20` (1-Wire), `cpu` (SoC thermal zone), `replay` (CSV file), `sim` (simulated), `auto` (scan I2C, then 1-Wire), `none`.', SENSOR_DRIVERS, 'sim'),
    bus: int('I2C bus number (`/dev/i2c-N`).', 1, 0, 99),
    address: int('I2C address (e.g. 0x76); null = the chip\'s default, or every known address with `auto`.', null, 0x03, 0x77),
    device: optStr('ds18b20: the 1-Wire device id (`28-...`); null = the first one found.', { pattern: '^28-[0-9a-f]{12}$' }),
    file: optPath('replay: the CSV file (required with `driver: replay`).'),
    column: str('replay: the column holding the temperature in Celsius.', 'Temperature'),
    speed: num('replay: speed multiplier (600 = ten hours of data a minute).', 1, { min: 0.01, max: 100_000 }),
    loop: bool('replay: start again at the first row after the last.', true),
    interval_s: num('Seconds between two readings (data time with replay).', 10, { min: 0.1, max: DAY_S }),
  }),
  forecast: section('The temperature forecaster.', {
    enabled: bool('Forecast the temperature from the last readings.', true),
    model: optPath('ONNX model file; null = the active `forecast` model installed, else the one shipped with the agent.'),
    every_s: num('Seconds between two forecasts.', 300, { min: 1, max: DAY_S }),
    high_c: num('Alert when a forecast reaches this temperature (Celsius); null = no high alert.', null, {}),
    low_c: num('Alert when a forecast falls to this temperature (Celsius); null = no low alert.', null, {}),
    hysteresis_c: num('A temperature alert clears once the forecast is this far back inside the threshold.', 0.5, { min: 0 }),
    fallback: section('Forecasting with persistence (the last reading) while the model loses to it. Every forecast is scored once its target time has passed, whatever this says.', {
      enabled: bool('Serve persistence, with the reason in each forecast, while the model has been worse than persistence over the last 24 h; the model takes over again once it wins.', true),
      min_scored: int('Forecasts of the model scored in the last 24 h before the fallback may switch (48 is 4 h at the default `every_s`).', 48, 1, 100_000),
      margin: num('How much worse than persistence the model must be over 24 h before persistence is served, as a fraction of persistence\'s error (0.1: 10% worse); it serves again as soon as it is better.', 0.1, { min: 0, max: 10 }),
    }),
    calibration: section('A model fitted on the device to this room\'s own readings (ridge regression on the hour\'s shape, in a background thread), promoted through the model registry only when it beats the active model on the most recent day it did not train on. Off when `forecast.model` names a file.', {
      enabled: bool('Calibrate a model for this room.', true),
      min_days: num('Days of readings before the first calibration (it trains on all but the last day, which it is judged on).', 3, { min: 2, max: 365 }),
      every_days: num('Days between two calibrations after one was promoted.', 7, { above: 0, max: 365 }),
      retry_days: num('Days before trying again after a candidate lost or a run failed.', 1, { above: 0, max: 365 }),
      max_days: num('The most recent days of readings a calibration uses.', 28, { min: 3, max: 365 }),
      margin: num('How much better than the active model a candidate must be on the held-out day to be promoted, as a fraction of the active model\'s error (0.05: 5% lower). It must also beat persistence.', 0.05, { min: 0, max: 0.9 }),
    }),
  }),
  mqtt: section('The MQTT connection (a local broker, or AWS IoT Core with `aws_iot.thing_name`).', {
    url: stringOrList(
      'Broker URL: `mqtt://host:1883`, `mqtts://host:8883` (TLS), `ws://` or `wss://`; or a list of them (comma-separated in the environment) to fail over: the agent connects to the first that answers, stays while the connection lasts, and when it drops and one more attempt on the same broker fails, moves on to the next (see docs/mqtt.md).',
      'mqtt://127.0.0.1:1883',
      '^(mqtts?|wss?)://',
      { 'x-secret': 'url' },
    ),
    prefix: str('Base topic is `<prefix>/<device_id>`; with `aws_iot.thing_name` set and no prefix given, `things`.', 'edge', {
      pattern: '^[^#+]*[^#+/]$',
    }),
    client_id: optStr('MQTT client id; null = `edge-agent-<device_id>` (the thing name with AWS IoT).', { maxLength: 128 }),
    username: optStr('User name, if the broker wants one.'),
    password_file: optPath('File holding the password (first line), if the broker wants one.'),
    ca: optPath('PEM file of the CA that signed the broker\'s certificate; null = the system\'s CAs.'),
    cert: optPath('PEM file of this device\'s client certificate (mutual TLS; required with AWS IoT).'),
    key: optPath('PEM file of this device\'s private key (mutual TLS; required with AWS IoT).'),
    aws_iot: section('AWS IoT Core profile.', {
      thing_name: optStr('The thing name: turns on the AWS IoT profile (mTLS, client id = thing name, payloads up to 128 KB, topics under `things/<thing>/`).', {
        pattern: '^[A-Za-z0-9:_-]{1,128}$',
      }),
      provisioning: section('Fleet provisioning by claim: a device without a certificate of its own makes a key pair and a CSR, and gets its certificate and thing name from AWS IoT Core with a claim certificate (see docs/fleet.md).', {
        template: optStr('The provisioning template name; null = provisioning by claim is off.', { pattern: '^[0-9A-Za-z_-]{1,36}$' }),
        claim_cert: optPath('PEM file of the claim certificate (shared by the fleet, allowed only to provision).'),
        claim_key: optPath('PEM file of the claim certificate\'s private key.'),
        parameters: strings('Template parameters as `Name=value` (e.g. `SerialNumber=pi-0042`); `DeviceId` is the device id unless given.', [], 0),
      }),
    }),
    embedded_broker: section('A small MQTT broker inside the agent (for the demo; a port already in use means a broker runs there and is used).', {
      enabled: autoBool('`auto`: start it exactly when no `mqtt.url` is configured (the demo); `true`/`false` force it on or off.'),
      host: str('Address it listens on (keep 127.0.0.1 unless other machines must connect).', '127.0.0.1'),
      port: int('Port it listens on.', 1883, 0, 65535),
    }),
    keepalive_s: int('MQTT keep-alive in seconds (AWS IoT Core accepts 30 to 1200).', 60, 5, 65535),
    max_inflight: int('Outbox messages published and not yet acknowledged, at most (AWS IoT Core allows 100).', 100, 1, 65535),
  }),
  alarm: section('The alarm output (siren, relay, LED) on a GPIO pin.', {
    gpio: int('BCM GPIO number of the output; null = a log-only alarm.', null, 0, 57),
    active_low: bool('The output is on when the pin is low.', false),
    hold_s: num('Seconds the alarm stays on after an intrusion starts (new detections extend it).', 30, { min: 0, max: DAY_S }),
    zones: zoneNames('The alarm sounds only for an object in one of these zones (`intruder.zones`); empty = any confirmed intruder.'),
    gpio_base: int('sysfs GPIO number of BCM pin 0; null = found from /sys/class/gpio (512 on a Raspberry Pi 5 kernel 6.6+).', null, 0, 100_000),
  }),
  store: section('The SQLite store and its outbox.', {
    max_outbox_rows: int('Undelivered messages kept at most; beyond it the oldest are dropped (and counted).', 100_000, 100, 100_000_000),
    retention_days: int('Readings, detections and forecasts older than this many days are deleted.', 30, 1, 36_500),
  }),
  http: section('The local HTTP API (health, metrics, inference, status page).', {
    enabled: bool('Serve the HTTP API.', true),
    host: str('Address it listens on (0.0.0.0 to reach it from the network).', '127.0.0.1'),
    port: int('Port it listens on.', 8080, 0, 65535),
    api_keys: strings('Keys accepted in the `x-api-key` header of inference requests; empty = no key needed. Better set with `api_keys_file` (one key a line). Redacted when the configuration is sent.', [], 0, 8, { 'x-secret': 'value' }),
    rate_limit: section('Inference requests per client.', {
      enabled: bool('Limit the request rate (429 beyond it).', true),
      per_second: num('Sustained requests per second.', 10, { min: 0.001, max: 100_000 }),
      burst: int('Requests allowed in a burst.', 10, 1, 10_000),
    }),
    max_queue: int('Inference requests waiting at most; beyond it 503.', 8, 1, 1_000),
    max_batch_items: int(
      'Images or windows per batch request (`/v1/intruders/batch`, `/v1/temperature/forecast/batch`) at most. A batch takes a rate-limit token and a queue place per item, so it is also never larger than `rate_limit.burst` (when the rate limit is on) or `max_queue`.',
      8,
      1,
      1_000,
    ),
    body_limit_bytes: int('Largest request body accepted.', 6 * 1024 * 1024, 1024, 100 * 1024 * 1024),
  }),
  ota: section('Over-the-air model updates.', {
    public_key: optStr('Ed25519 public key (PEM text or the path of a PEM file); when set, every update must be signed with its private key. Without it remote updates are refused (see `allow_unsigned_remote_updates`).'),
    ca: optPath('Extra CA bundle (PEM) trusted for https:// model downloads.'),
    max_bytes: int('Largest model download accepted.', 200 * 1024 * 1024, 1024, 4 * 1024 * 1024 * 1024),
    keep_versions: int('Installed versions kept per model role (for rollback).', 3, 1, 100),
    connect_timeout_s: num('Download connect timeout in seconds.', 10, { above: 0, max: 600 }),
    read_timeout_s: num('Download timeout in seconds without receiving data.', 60, { above: 0, max: 3600 }),
    download_timeout_s: num(
      'Longest a whole download may take, in seconds; null = the time `max_bytes` takes at 128 KB/s (at least 60 s: 1600 s for the default 200 MB). A slower download is cut with code `timeout`, so no server can hold the update queue.',
      null,
      { above: 0, max: DAY_S },
    ),
    allow_unsigned_remote_updates: bool(
      'Accept remote model updates (MQTT `cmd/model-update`, AWS IoT Jobs, Home Assistant) without a signature when `public_key` is not set. Anyone who can publish to the device\'s command topics can then replace its models: `edge-agent doctor` warns about it. Local installs with `edge-agent models` need no key either way.',
      false,
    ),
  }),
  homeassistant: section('Home Assistant MQTT discovery.', {
    enabled: bool('Publish discovery messages so Home Assistant creates the entities.', false),
    discovery_prefix: str('Home Assistant\'s discovery prefix.', 'homeassistant'),
  }),
  diagnostics: section('The retained `<base>/diagnostics` message (outbox, inference, frames dropped, CPU temperature, forecast error), shown by Home Assistant as diagnostic entities.', {
    interval_s: num('Seconds between two diagnostics messages.', 60, { min: 5, max: DAY_S }),
    cpu_temperature_file: str('File holding the CPU temperature in millidegrees Celsius; when it cannot be read the CPU temperature is left out (and not announced to Home Assistant).', '/sys/class/thermal/thermal_zone0/temp'),
  }),
  remote_config: section('Configuration changes over MQTT (`<base>/cmd/config/set`, docs/fleet.md). `cmd/config/get` and the retained `<base>/info` (secrets redacted) need nothing.', {
    enabled: bool(
      'Accept `cmd/config/set`. The broker\'s access control on `<base>/cmd/config/set` is then the only authentication: whoever may publish there may change the thresholds, intervals and feature switches (never this section, `device_id`, `data_dir`, `mqtt`, the OTA trust keys or a `<key>_file`, which only the device\'s own file sets).',
      false,
    ),
  }),
  watchdog: section('What keeps systemd\'s watchdog fed (`WatchdogSec` in the unit): the agent pings it only while it does its job.', {
    stall_s: num('A pipeline that has not advanced for this many seconds (vision: no frame and no camera restart; telemetry: no reading, at least 3 sensor intervals) stops the pings, so systemd restarts the agent; /health shows it `down`.', 180, { min: 1, max: DAY_S }),
    max_lag_s: num('The event loop answering later than this many seconds stops the pings.', 5, { above: 0, max: DAY_S }),
  }),
});
