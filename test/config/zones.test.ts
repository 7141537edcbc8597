import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../agent/config/load.js';
import { configFolder } from './config-folder.js';
import { problemsOf } from './problems.js';

const folder = configFolder();
const load = (yaml: string) => loadConfig({ file: folder.write('agent.yaml', yaml), env: {} });

const GOOD = `
intruder:
  zones:
    - name: driveway
      points: [[0, 0.5], [0.6, 0.5], [0.6, 1], [0, 1]]
      classes: [person]
      inertia: 2
    - name: garden
      points: [[0.6, 0.4], [1, 0.4], [1, 1], [0.6, 1]]
  required_zones: [driveway, garden]
  masks:
    - [[0.8, 0], [1, 0], [1, 0.3], [0.8, 0.3]]
motion:
  masks:
    - [[0, 0], [0.3, 0], [0.3, 0.06], [0, 0.06]]
alarm:
  zones: [driveway]
`;

describe('zones and masks in the configuration', () => {
  it('has none by default, and loads a worked example as written', () => {
    const none = load('');
    expect([none.intruder.zones, none.intruder.required_zones, none.intruder.masks, none.motion.masks, none.alarm.zones]).toEqual([[], [], [], [], []]);
    const config = load(GOOD);
    expect(config.intruder.zones.map((z) => z.name)).toEqual(['driveway', 'garden']);
    expect(config.intruder.zones[0]).toEqual({ name: 'driveway', points: [[0, 0.5], [0.6, 0.5], [0.6, 1], [0, 1]], classes: ['person'], inertia: 2 });
    expect(config.alarm.zones).toEqual(['driveway']);
    expect(config.motion.masks).toHaveLength(1);
  });

  it('names every bad zone, mask and zone reference with its key path and reason, all at once', () => {
    const problems = problemsOf(() =>
      load(`
intruder:
  zones:
    - name: gate
      points: [[0, 0], [1, 0]]
    - name: gate
      points: [[0, 0], [0.5, 0.5], [1, 1]]
      classes: [car]
    - name: lawn
      points: [[0, 0], [1.5, 0], [1, 1]]
  required_zones: [porch]
  masks:
    - [[0, 0], [0, 0], [0, 0]]
motion:
  masks: [[0.1, 0.1]]
alarm:
  zones: [shed]
`),
    );
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(byPath).toEqual({
      'intruder.zones[0].points': 'must NOT have fewer than 3 items (got [[0,0],[1,0]])',
      'intruder.zones[1].name': '"gate" is already the name of intruder.zones[0]: zone names must be unique',
      'intruder.zones[1].points': 'encloses no area (its points lie on one line or repeat): draw at least three corners of an area',
      'intruder.zones[1].classes': '"car" is not an intruder class (intruder.classes: person, dog, cat, bear), so it would never be in this zone',
      'intruder.zones[2].points[1][0]': 'must be <= 1 (got 1.5)',
      'intruder.required_zones': '"porch" is not a zone of intruder.zones (defined: gate, lawn)',
      'intruder.masks[0]': 'encloses no area (its points lie on one line or repeat): draw at least three corners of an area',
      'motion.masks[0]': 'must NOT have fewer than 3 items (got [0.1,0.1])',
      'motion.masks[0][0]': 'must be a array (got 0.1)',
      'motion.masks[0][1]': 'must be a array (got 0.1)',
      'alarm.zones': '"shed" is not a zone of intruder.zones (defined: gate, lawn)',
    });
    // Each problem points at its line in the file.
    expect(problems.find((p) => p.path === 'intruder.zones[1].name')!.source).toMatch(/agent\.yaml:\d+/);
  });
});
