/**
 * A real pino logger (agent/lib/log.ts) writing into memory, so tests assert on the JSON lines a user
 * would see in journald: level, message, fields.
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../agent/lib/log.js';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface CapturedLog {
  logger: Logger;
  lines: LogLine[];
  /** Lines whose message matches. */
  matching(pattern: RegExp): LogLine[];
}

export function captureLog(level: 'debug' | 'info' | 'warn' = 'debug'): CapturedLog {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const logger = createLogger(level, sink);
  return { logger, lines, matching: (pattern) => lines.filter((l) => pattern.test(l.msg)) };
}
