/**
 * A URL as it may be logged, shown in /health or published: no user name or password, no query string
 * and no fragment (pre-signed download URLs and AWS IoT's signed WebSocket URLs carry secrets there).
 * `mqtts://user:secret@host:8883` -> `mqtts://host:8883`; `https://host/m.onnx?X-Amz-Signature=...`
 * -> `https://host/m.onnx`.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    // `user:secret@host` parses as scheme `user:` with the rest as an opaque path: not a server address.
    if (u.host === '' && u.protocol !== 'file:') return '(invalid URL)';
    const path = u.pathname === '/' ? '' : u.pathname;
    return `${u.protocol}//${u.host}${path}`;
  } catch {
    return '(invalid URL)';
  }
}
