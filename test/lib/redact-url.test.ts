import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../agent/lib/redact-url.js';

describe('redactUrl', () => {
  it('drops credentials, query strings and fragments, whatever the scheme', () => {
    expect(redactUrl('https://user:pw@example.com/a/model.onnx?X-Amz-Signature=abc#top')).toBe('https://example.com/a/model.onnx');
    expect(redactUrl('mqtts://edge:s3cret@broker.lan:8883')).toBe('mqtts://broker.lan:8883');
    expect(redactUrl('wss://a1b2.iot.eu-west-1.amazonaws.com/mqtt?X-Amz-Credential=AKIA&X-Amz-Signature=abc')).toBe('wss://a1b2.iot.eu-west-1.amazonaws.com/mqtt');
    expect(redactUrl('file:///var/lib/models/m.onnx?token=x')).toBe('file:///var/lib/models/m.onnx');
  });

  it('keeps what locates the server: scheme, host, port and path', () => {
    expect(redactUrl('mqtt://127.0.0.1:1883')).toBe('mqtt://127.0.0.1:1883');
    expect(redactUrl('mqtt://127.0.0.1:1883/')).toBe('mqtt://127.0.0.1:1883');
    expect(redactUrl('https://[::1]:8443/models/')).toBe('https://[::1]:8443/models/');
  });

  it('says so for text that is not a server URL, without repeating it', () => {
    expect(redactUrl('broker lan')).toBe('(invalid URL)');
    // Parses as the scheme `edge:` with an opaque path: the password must not come out as that path.
    expect(redactUrl('edge:s3cret@broker.lan:1883')).toBe('(invalid URL)');
  });
});
