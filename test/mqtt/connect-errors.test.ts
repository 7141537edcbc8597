import { createServer, type AddressInfo } from 'node:net';
import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { describeConnectError, explainConnectError } from '../../agent/mqtt/connect-errors.js';

/** An error as net, tls and mqtt.js make them: a message and a code (a string, or a CONNACK number). */
function failure(message: string, code?: string | number): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

describe('explainConnectError', () => {
  it('names the problem and the setting to change, for each way a connection fails', () => {
    const cases: Array<[Error, string, { problem: string; fix: string }]> = [
      [failure('connect ECONNREFUSED 127.0.0.1:1883', 'ECONNREFUSED'), 'mqtt://127.0.0.1:1883', { problem: 'connection refused: no broker is listening there', fix: 'start the broker, or fix mqtt.url' }],
      [failure('getaddrinfo ENOTFOUND broker.lan', 'ENOTFOUND'), 'mqtt://broker.lan:1883', { problem: 'cannot resolve the host name (ENOTFOUND)', fix: 'check mqtt.url and DNS' }],
      [failure('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), 'mqtts://broker.lan:8883', { problem: "the broker's certificate is not trusted (SELF_SIGNED_CERT_IN_CHAIN)", fix: 'set mqtt.ca to the CA that signed it' }],
      [failure('SSL alert number 48', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), 'mqtts://broker.lan:8883', { problem: 'the broker rejected the client certificate (ERR_SSL_TLSV1_ALERT_UNKNOWN_CA)', fix: 'check mqtt.cert and mqtt.key, and that the broker trusts their CA' }],
      [failure('Connection refused: Not authorized', 5), 'mqtt://broker.lan:1883', { problem: 'not authorised: the broker refused these credentials or this client id (Connection refused: Not authorized)', fix: 'check mqtt.username, mqtt.password_file, mqtt.cert and mqtt.key' }],
      [failure('Connection refused: Identifier rejected', 2), 'mqtt://broker.lan:1883', { problem: 'the broker rejected the client id (Connection refused: Identifier rejected)', fix: 'set mqtt.client_id' }],
      [failure('connack timeout'), 'mqtt://10.0.0.9:1883', { problem: 'no answer (connack timeout)', fix: 'check the address, the port and any firewall' }],
      [failure('read ECONNRESET', 'ECONNRESET'), 'mqtts://broker.lan:8883', { problem: 'the broker closed the connection during the TLS handshake (ECONNRESET)', fix: 'check mqtt.cert and mqtt.key: it usually means the broker rejected the client certificate' }],
    ];
    for (const [err, url, expected] of cases) expect(explainConnectError(err, url), err.message).toEqual(expected);
  });

  it('does not blame the client certificate for a reset of an established or a plain connection', () => {
    const reset = failure('read ECONNRESET', 'ECONNRESET');
    expect(explainConnectError(reset, 'mqtts://broker.lan:8883', true).problem).toBe('the broker closed the connection (ECONNRESET)');
    expect(explainConnectError(reset, 'mqtt://broker.lan:1883').problem).toBe('the broker closed the connection (ECONNRESET)');
  });

  it('reads as one line for the log: the problem, then the fix when there is one', () => {
    expect(describeConnectError(failure('connect ECONNREFUSED 127.0.0.1:1883', 'ECONNREFUSED'), 'mqtt://127.0.0.1:1883')).toBe(
      'connection refused: no broker is listening there: start the broker, or fix mqtt.url',
    );
    const ownWords = failure('no acknowledgement (PUBACK) for 30 s, so the unacknowledged messages go again on a new connection');
    expect(explainConnectError(ownWords, 'mqtt://127.0.0.1:1883')).toEqual({ problem: ownWords.message, fix: null });
    expect(describeConnectError(ownWords, 'mqtt://127.0.0.1:1883')).toBe(ownWords.message);
  });

  it('recognises a peer that answers, but not in MQTT (an HTTP server on the port), whatever mqtt.js says about its bytes', async () => {
    const http = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `mqtt://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      const err = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 10_000 }).then(
        (client) => client.endAsync().then(() => new Error('connected')),
        (failed: unknown) => failed,
      );
      expect(explainConnectError(err, url)).toEqual({
        problem: expect.stringMatching(/^something answered there, but it is not an MQTT broker \(it sent what MQTT cannot read: .+\)$/),
        fix: 'check the host and port in mqtt.url: brokers listen on 1883 (MQTT) or 8883 (MQTT over TLS)',
      });
    } finally {
      http.close();
    }
  });
});
