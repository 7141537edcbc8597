/**
 * Renders the reference parts of docs/configuration.md and docs/mqtt.md from the code that enforces
 * them (agent/config/schema.ts, agent/mqtt/contract/schemas.ts), so the documentation cannot drift: scripts/docs/generate.ts
 * writes them and test/scripts/docs/docs.test.ts fails when they are stale.
 */
import { envVarName } from '../../agent/config/env.js';
import { configSchema, isSection, type AnySchema, type LeafSchema, type SectionSchema } from '../../agent/config/schema.js';
import { TOPICS } from '../../agent/mqtt/contract/schemas.js';

const BEGIN = (name: string) => `<!-- BEGIN GENERATED ${name}: npm run docs -->`;
const END = (name: string) => `<!-- END GENERATED ${name} -->`;

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function typeOf(schema: LeafSchema): string {
  if (schema.enum) return `one of ${schema.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  const types = (Array.isArray(schema.type) ? schema.type : [schema.type]).map((t) => (t === 'array' ? `list of ${schema.items?.type ?? 'any'}` : t));
  const range: string[] = [];
  if (schema.minimum !== undefined) range.push(`>= ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) range.push(`> ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) range.push(`<= ${schema.maximum}`);
  return types.join(' or ') + (range.length > 0 ? ` (${range.join(', ')})` : '');
}

function defaultOf(schema: LeafSchema): string {
  return schema['x-doc-default'] ? `(${schema['x-doc-default']})` : `\`${JSON.stringify(schema.default)}\``;
}

function sectionTable(section: SectionSchema, path: string[]): string[] {
  const rows: string[] = [];
  const nested: string[] = [];
  for (const [key, child] of Object.entries(section.properties as Record<string, AnySchema>)) {
    const keyPath = [...path, key];
    if (isSection(child)) {
      nested.push('', `#### \`${keyPath.join('.')}\``, '', child.description, '', ...sectionTable(child, keyPath));
      continue;
    }
    rows.push(`| \`${key}\` | ${cell(typeOf(child))} | ${cell(defaultOf(child))} | \`${envVarName(keyPath)}\` | ${cell(child.description)} |`);
  }
  const table = rows.length > 0 ? ['| Key | Type | Default | Environment | Description |', '|---|---|---|---|---|', ...rows] : [];
  return [...table, ...nested];
}

/** The keys of each entry of a map (`cameras.<name>`): set in the file (or as JSON in its variable), so no variable of their own. */
function entryTable(properties: Record<string, AnySchema>, path: string[]): string[] {
  const rows = Object.entries(properties).flatMap(([key, child]): string[] => {
    if (isSection(child)) return entryTable(child.properties as Record<string, AnySchema>, [...path, key]).slice(2);
    const name = [...path, key].join('.');
    return [`| \`${name}\` | ${cell(typeOf(child))} | ${child.default === undefined ? 'required' : cell(defaultOf(child))} | ${cell(child.description)} |`];
  });
  return ['| Key | Type | Default | Description |', '|---|---|---|---|', ...rows];
}

export function renderConfigReference(): string {
  const top = configSchema.properties as Record<string, AnySchema>;
  const leaves = Object.fromEntries(Object.entries(top).filter(([, s]) => !isSection(s)));
  const lines = ['### Top level', '', ...sectionTable({ ...configSchema, properties: leaves } as SectionSchema, [])];
  for (const [key, child] of Object.entries(leaves)) {
    const entry = (child as LeafSchema).additionalProperties as { properties?: Record<string, AnySchema> } | undefined;
    if (entry?.properties) lines.push('', `### \`${key}.<name>\``, '', `Each entry of \`${key}\`.`, '', ...entryTable(entry.properties, []));
  }
  for (const [key, child] of Object.entries(top)) {
    if (isSection(child)) lines.push('', `### \`${key}\``, '', child.description, '', ...sectionTable(child, [key]));
  }
  return lines.join('\n');
}

export function renderMqttReference(): string {
  const lines = [
    '| Topic (below `<base>`) | Direction | QoS | Retained | Payload | What |',
    '|---|---|---|---|---|---|',
    ...TOPICS.map((t) => {
      const payload = t.format === 'json' ? (t.schema ? 'JSON (schema below)' : 'JSON') : t.format === 'text' ? `text: ${t.values!.map((v) => `\`${v}\``).join(' / ')}` : 'JPEG bytes';
      return `| \`${t.suffix}\` | ${t.direction === 'published' ? 'agent → broker' : 'broker → agent'} | ${t.qos} | ${t.retained ? 'yes' : 'no'} | ${payload} | ${cell(t.description)} |`;
    }),
  ];
  const printed = new Map<object, string>();
  for (const t of TOPICS.filter((spec) => spec.schema)) {
    const first = printed.get(t.schema!);
    lines.push('', `### \`<base>/${t.suffix}\``, '', t.description, '');
    if (first) lines.push(`The payload of \`<base>/${first}\`.`);
    else lines.push('```json', JSON.stringify(t.schema, null, 2), '```');
    printed.set(t.schema!, first ?? t.suffix);
  }
  return lines.join('\n');
}

/** Replaces the generated block `name` of a markdown document (which must contain its markers). */
export function replaceGenerated(document: string, name: string, body: string): string {
  const begin = document.indexOf(BEGIN(name));
  const end = document.indexOf(END(name));
  if (begin < 0 || end < begin) throw new Error(`the document has no "${BEGIN(name)}" ... "${END(name)}" block`);
  return `${document.slice(0, begin)}${BEGIN(name)}\n\n${body}\n\n${document.slice(end)}`;
}

export const GENERATED_DOCS = [
  { file: 'docs/configuration.md', block: 'config-reference', render: renderConfigReference },
  { file: 'docs/mqtt.md', block: 'mqtt-reference', render: renderMqttReference },
] as const;
