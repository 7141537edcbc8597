/**
 * Checks of the camera keys a schema cannot express: what each driver needs (`driver: dir` needs `dir`),
 * the zones and masks of each camera's frame, and the one-camera (`camera`) and several-camera
 * (`cameras`) forms not mixed. Each check looks only at values of the right type.
 */
import { isObj, section, type KeyPath as Path, type Obj, type ReportAt as Report } from './config-values.js';
import { zoneProblems, type KeyAt } from './zone-checks.js';

type MustExist = (path: Path, value: unknown, kind: 'file' | 'folder') => void;

const nonEmpty = (value: unknown) => (Array.isArray(value) ? value.length > 0 : false);

/** What a driver needs besides its defaults. */
function driverProblems(camera: Obj, at: Path, report: Report, mustExist: MustExist): void {
  const key = [...at, 'driver'].join('.');
  if (camera.driver === 'dir') {
    if (typeof camera.dir !== 'string' || camera.dir === '') report([...at, 'dir'], `is required with ${key} "dir" (the folder of images to replay)`);
    else mustExist([...at, 'dir'], camera.dir, 'folder');
  }
  if (camera.driver === 'ffmpeg' && (typeof camera.input !== 'string' || camera.input === '')) {
    report([...at, 'input'], `is required with ${key} "ffmpeg" (a /dev/videoN device or a stream URL)`);
  }
}

export function cameraProblems(config: Obj, report: Report, mustExist: MustExist): void {
  const camera = section(config, 'camera');
  const intruder = section(config, 'intruder');
  const motion = section(config, 'motion');
  const alarm = section(config, 'alarm');
  const classes = Array.isArray(intruder.classes) ? intruder.classes.filter((c): c is string => typeof c === 'string') : [];
  const key = (path: Path): KeyAt => ({ path, value: path.reduce<unknown>((node, k) => (isObj(node) ? node[k as string] : undefined), config) });
  driverProblems(camera, ['camera'], report, mustExist);
  zoneProblems(
    { zones: key(['intruder', 'zones']), references: [key(['intruder', 'required_zones']), key(['alarm', 'zones'])], masks: [key(['intruder', 'masks']), key(['motion', 'masks'])] },
    classes,
    report,
  );

  const cameras = section(config, 'cameras');
  if (Object.keys(cameras).length === 0) return;
  // The one-camera keys describe one frame: with several cameras each camera has its own.
  if (camera.driver !== undefined && camera.driver !== 'none') {
    report(['camera', 'driver'], 'must be "none" when cameras lists the cameras: describe every camera under cameras (or the one camera under camera, and no cameras)');
  }
  const perCamera: [Path, unknown, string][] = [
    [['intruder', 'zones'], intruder.zones, 'zones'],
    [['intruder', 'required_zones'], intruder.required_zones, 'required_zones'],
    [['intruder', 'masks'], intruder.masks, 'masks'],
    [['motion', 'masks'], motion.masks, 'motion_masks'],
    [['alarm', 'zones'], alarm.zones, 'alarm_zones'],
  ];
  for (const [path, value, own] of perCamera) {
    if (nonEmpty(value)) report(path, `describes one camera's frame: with cameras, set it for each camera as cameras.<name>.${own}`);
  }
  const rpicamIndexes = new Map<number, string>();
  for (const [name, entry] of Object.entries(cameras)) {
    if (!isObj(entry)) continue;
    const at = ['cameras', name];
    driverProblems(entry, at, report, mustExist);
    zoneProblems(
      { zones: key([...at, 'zones']), references: [key([...at, 'required_zones']), key([...at, 'alarm_zones'])], masks: [key([...at, 'masks']), key([...at, 'motion_masks'])] },
      classes,
      report,
    );
    if (entry.driver === 'rpicam' && typeof entry.index === 'number') {
      const first = rpicamIndexes.get(entry.index);
      if (first !== undefined) report([...at, 'index'], `camera ${entry.index} is already cameras.${first}'s: two rpicam-vid processes cannot open one camera`);
      else rpicamIndexes.set(entry.index, name);
    }
  }
}
