import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Paths redacted wherever they appear in a log object: credentials must never reach journald. */
const REDACT = [
  'password',
  '*.password',
  '*.*.password',
  'api_key',
  'api_keys',
  '*.api_keys',
  '*.*.api_keys',
  'key',
  '*.key',
  'headers["x-api-key"]',
  'req.headers["x-api-key"]',
];

/**
 * The process logger: pino JSON lines on stdout (journald keeps them) or on an injected destination
 * (tests capture lines with a sink). Logging is synchronous so the last lines before a crash or power cut
 * are not lost in a buffer. Features take `logger.child({ module })`.
 */
export function createLogger(level: LevelWithSilent = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
