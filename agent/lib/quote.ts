/**
 * Values from outside (a command payload, a job document, a configuration file) quoted in messages, cut
 * short: a megabyte of input must never become a megabyte of log line, reply or error. HTTP describes
 * such values the same way (agent/http/inputs.ts), MQTT replies cut what they echo (remote-commands.ts).
 */

/** How much of a value a message quotes by default: enough to recognise it, never a flood. */
export const QUOTE_CHARS = 64;

/** `text` cut to `maxChars` characters, with `…` when something was cut. */
export function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}…`;
}

/** A value as JSON text (strings in quotes), cut to `maxChars`: `"abc"`, `12`, `"xxxx…` (1048576 characters)`. */
export function quote(value: unknown, maxChars = QUOTE_CHARS): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}… (${text.length} characters)`;
}
