/**
 * The camera keys of the configuration schema: `camera` (the agent's one camera) and each entry of
 * `cameras` (several cameras), which adds the zones, masks and filters of that camera's frame.
 */
import { CAMERA_DRIVERS, CAMERA_FORMATS, CAMERA_LIMITS } from '../../drivers/camera/index.js';
import type { CameraConfig, CameraEntryConfig, CameraFiltersConfig } from './types.js';
import { bool, limited, oneOf, optPath, optStr, overrides, polygons, section, typed, zoneNames, zones } from './schema-builders.js';
import type { Properties, TypedLeaf } from './schema-types.js';

export const CAMERA_PROPERTIES: Properties<CameraConfig> = {
  driver: oneOf('`rpicam` (rpicam-vid stream), `still` (node-libcamera stills), `ffmpeg` (USB camera or RTSP/HTTP stream), `dir` (replay a folder of images), `none` (vision off).', CAMERA_DRIVERS, 'none'),
  width: limited('Frame width in pixels.', 1280, CAMERA_LIMITS.width),
  height: limited('Frame height in pixels.', 720, CAMERA_LIMITS.height),
  fps: limited('Frames per second requested from the camera.', 5, CAMERA_LIMITS.fps),
  rotation: oneOf('Rotate frames by this many degrees (what rpicam-apps support).', [0, 180], 0),
  hflip: bool('Mirror frames horizontally.', false),
  vflip: bool('Flip frames vertically.', false),
  index: limited('rpicam: which camera (`--camera N`).', 0, CAMERA_LIMITS.index),
  dir: optPath('dir: folder of JPEG/PNG images to replay, in name order (required with `driver: dir`).'),
  loop: bool('dir: start again at the first image after the last.', true),
  input: optStr('ffmpeg: `/dev/videoN` or an `rtsp://` / `http(s)://` URL (required with `driver: ffmpeg`). A URL\'s user name and password are redacted when the configuration is sent.', { 'x-secret': 'url' }),
  format: oneOf(
    'rpicam and ffmpeg: what the capture process sends. `yuv420`: raw frames (no JPEG encode on the device, no decode in the agent; width and height must be even); `mjpeg`: JPEG frames (less bandwidth through the pipe, more CPU). dir and still always give JPEG. See docs/camera.md.',
    CAMERA_FORMATS,
    'yuv420',
  ),
  stall_timeout_s: limited('Restart the capture process when no frame came for this many seconds.', 10, CAMERA_LIMITS.stall_timeout_s),
  still_interval_s: limited('still: seconds between two stills.', 2, CAMERA_LIMITS.still_interval_s),
};

/** A camera's name is a topic level (`<base>/alerts/intruder/<name>`) and part of Home Assistant's ids. */
const CAMERA_NAME = '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$';
/** One detector serves every camera: more than a few overloads even a Pi 5. */
const MAX_CAMERAS = 8;

/** A camera's filter key left null keeps the value `intruder.filters` gives its class. */
const CAMERA_INHERITS = () => "`intruder.filters`' value";

/** A camera of `cameras` must say its driver (`required` cannot see a key the defaults filled in). */
const { default: _driverDefault, ...ENTRY_DRIVER } = CAMERA_PROPERTIES.driver;

const CAMERA_ENTRY_PROPERTIES: Properties<CameraEntryConfig> = {
  ...CAMERA_PROPERTIES,
  driver: ENTRY_DRIVER as typeof CAMERA_PROPERTIES.driver,
  zones: zones('Named areas of this camera\'s frame (as `intruder.zones`).'),
  required_zones: zoneNames('Zones of this camera an object must have entered to alert (as `intruder.required_zones`); empty = anywhere.'),
  masks: polygons('Object masks of this camera\'s frame (as `intruder.masks`).'),
  motion_masks: polygons('Motion masks of this camera\'s frame (as `motion.masks`).'),
  alarm_zones: zoneNames('Zones of this camera whose objects sound the alarm (as `alarm.zones`); empty = anywhere.'),
  filters: section<CameraFiltersConfig>('This camera\'s own filter values (a key left null keeps `intruder.filters`\' value).', {
    default: overrides('every class on this camera', {}, CAMERA_INHERITS),
    person: overrides('person on this camera', {}, CAMERA_INHERITS),
    dog: overrides('dog on this camera', {}, CAMERA_INHERITS),
    cat: overrides('cat on this camera', {}, CAMERA_INHERITS),
    bear: overrides('bear on this camera', {}, CAMERA_INHERITS),
  }),
};

/** `cameras`: a map from a camera's name to its settings (every key but `driver` has a default). */
export function cameraMap(description: string): TypedLeaf<Record<string, CameraEntryConfig>> {
  const entry = { type: 'object', additionalProperties: false, required: ['driver'], properties: CAMERA_ENTRY_PROPERTIES };
  return typed<Record<string, CameraEntryConfig>>({
    type: 'object',
    description,
    default: {},
    propertyNames: { pattern: CAMERA_NAME },
    maxProperties: MAX_CAMERAS,
    additionalProperties: entry,
    // An entry's `input` may be a stream URL with a password in it.
    'x-secret': 'url',
  });
}
