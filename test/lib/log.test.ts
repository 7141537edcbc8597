import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/lib/log.js';
import { captureLog } from '../helpers/log-capture.js';

describe('createLogger', () => {
  it('writes one JSON line per entry, with level, message, ISO-8601 UTC time, pid and the fields given', () => {
    const log = captureLog('info');
    log.logger.child({ module: 'relay' }).warn({ outbox: 3 }, 'lost the connection');
    log.logger.debug('below the level: not written');
    expect(log.lines).toHaveLength(1);
    const [line] = log.lines;
    expect(line).toMatchObject({ level: 40, msg: 'lost the connection', module: 'relay', outbox: 3, pid: process.pid });
    expect(line!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('redacts passwords, API keys and private keys wherever the agent logs them, keeping the other fields', () => {
    const log = captureLog();
    log.logger.info({ password: 'p1', mqtt: { password: 'p2', url: 'mqtts://broker.lan' }, config: { mqtt: { password: 'p3' } } }, 'passwords');
    log.logger.info({ api_key: 'k1', api_keys: ['k2'], http: { api_keys: ['k3'] }, config: { http: { api_keys: ['k4'] } } }, 'api keys');
    log.logger.info({ key: 'pem1', tls: { key: 'pem2', cert: 'public' } }, 'private keys');
    log.logger.info({ headers: { 'x-api-key': 'k5' }, req: { method: 'POST', headers: { 'x-api-key': 'k6', host: 'pi' } } }, 'headers');
    const text = log.lines.map((l) => JSON.stringify(l)).join('\n');
    for (const secret of ['p1', 'p2', 'p3', 'k1', 'k2', 'k3', 'k4', 'pem1', 'pem2', 'k5', 'k6']) expect(text).not.toContain(`"${secret}"`);
    expect(log.lines[0]).toMatchObject({ password: '[redacted]', mqtt: { password: '[redacted]', url: 'mqtts://broker.lan' } });
    expect(log.lines[2]).toMatchObject({ tls: { key: '[redacted]', cert: 'public' } });
    expect(log.lines[3]).toMatchObject({ req: { method: 'POST', headers: { 'x-api-key': '[redacted]', host: 'pi' } } });
  });
});

describe('silentLogger', () => {
  it('is enabled for no level, so nothing is written', () => {
    const logger = silentLogger();
    expect(['fatal', 'error', 'warn', 'info', 'debug', 'trace'].filter((level) => logger.isLevelEnabled(level))).toEqual([]);
  });
});
