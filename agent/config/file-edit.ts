/**
 * A partial configuration merged into a configuration file's text, as `cmd/config/set` writes it: a YAML
 * file keeps its comments, order and layout (only the keys set change), a `.json` file stays JSON.
 * Objects merge key by key; lists and values replace.
 */
import { isMap, parseDocument, type Document } from 'yaml';
import { isObj, type Obj } from './config-values.js';
import { mergeConfig } from './load.js';


/** The new text of `file` (whose current text is `text`, null when it does not exist yet) with `partial` merged in. */
export function mergeIntoConfigText(file: string, text: string | null, partial: Obj): string {
  if (/\.json$/i.test(file)) {
    const current: unknown = text === null || text.trim() === '' ? {} : JSON.parse(text);
    return `${JSON.stringify(mergeConfig(isObj(current) ? current : {}, partial), null, 2)}\n`;
  }
  const doc = parseDocument(text ?? '');
  if (doc.errors.length > 0) throw new Error(`the file is not valid YAML now: ${doc.errors[0]!.message.split('\n')[0]}`);
  // An empty file (or one holding only comments) has no mapping to merge into yet.
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
  setKeys(doc, [], partial);
  return doc.toString();
}

function setKeys(doc: Document, at: string[], values: Obj): void {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const path = [...at, key];
    // Into an existing mapping key by key (its other keys and their comments stay); anything else is replaced.
    if (isObj(value) && isMap(doc.getIn(path, true))) setKeys(doc, path, value);
    else doc.setIn(path, value);
  }
}
