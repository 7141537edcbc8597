/**
 * The AWS IoT fleet provisioning MQTT API: CreateCertificateFromCsr and RegisterThing, their topics, and
 * their answers parsed into typed values. A refusal (`/rejected`) becomes a ProvisioningRefusedError
 * carrying AWS's statusCode, errorCode and errorMessage; whether it is worth retrying is decided here,
 * from the status code, so the provisioner does not need to know AWS's codes.
 */

/** One request/response pair: publish on `request`, the answer arrives on `accepted` or `rejected`. */
export interface ApiTopics {
  request: string;
  accepted: string;
  rejected: string;
}

function topicsOf(request: string): ApiTopics {
  return { request, accepted: `${request}/accepted`, rejected: `${request}/rejected` };
}

export const CREATE_CERTIFICATE_TOPICS = topicsOf('$aws/certificates/create-from-csr/json');

export function registerThingTopics(template: string): ApiTopics {
  return topicsOf(`$aws/provisioning-templates/${template}/provision/json`);
}

export interface IssuedCertificate {
  certificateId: string;
  certificatePem: string;
  certificateOwnershipToken: string;
}

export interface RegisteredThing {
  thingName: string;
  deviceConfiguration: Record<string, string>;
}

/** AWS said no. `permanent`: asking again will get the same answer (bad request, forbidden, unknown template). */
export class ProvisioningRefusedError extends Error {
  readonly permanent: boolean;

  constructor(
    readonly operation: 'CreateCertificateFromCsr' | 'RegisterThing',
    readonly statusCode: number | null,
    readonly errorCode: string,
    readonly errorMessage: string,
  ) {
    super(`${operation} refused by AWS IoT: ${errorCode}${statusCode === null ? '' : ` (${statusCode})`}: ${errorMessage}`);
    this.name = 'ProvisioningRefusedError';
    // Throttling (429) and service errors (5xx) pass; other 4xx are about the request or the policy.
    this.permanent = statusCode !== null && statusCode >= 400 && statusCode < 500 && statusCode !== 429;
  }
}

/** The answer did not have the documented shape (treated as transient: the service may be mid-deploy). */
export class ProvisioningResponseError extends Error {
  override name = 'ProvisioningResponseError';
}

type Obj = Record<string, unknown>;

function parseObject(payload: Buffer, operation: string): Obj {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new ProvisioningResponseError(`${operation}: the answer is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProvisioningResponseError(`${operation}: the answer is not a JSON object`);
  return value as Obj;
}

function requireString(body: Obj, key: string, operation: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') throw new ProvisioningResponseError(`${operation}: the answer has no ${key}`);
  return value;
}

export function createCertificateRequest(csrPem: string): Buffer {
  return Buffer.from(JSON.stringify({ certificateSigningRequest: csrPem }));
}

export function parseIssuedCertificate(payload: Buffer): IssuedCertificate {
  const body = parseObject(payload, 'CreateCertificateFromCsr');
  const field = (key: string) => requireString(body, key, 'CreateCertificateFromCsr');
  return { certificateId: field('certificateId'), certificatePem: field('certificatePem'), certificateOwnershipToken: field('certificateOwnershipToken') };
}

export function registerThingRequest(ownershipToken: string, parameters: Record<string, string>): Buffer {
  return Buffer.from(JSON.stringify({ certificateOwnershipToken: ownershipToken, parameters }));
}

export function parseRegisteredThing(payload: Buffer): RegisteredThing {
  const body = parseObject(payload, 'RegisterThing');
  const thingName = requireString(body, 'thingName', 'RegisterThing');
  const configuration = body.deviceConfiguration;
  const deviceConfiguration: Record<string, string> = {};
  if (typeof configuration === 'object' && configuration !== null) {
    for (const [key, value] of Object.entries(configuration)) if (typeof value === 'string') deviceConfiguration[key] = value;
  }
  return { thingName, deviceConfiguration };
}

export function parseRefusal(payload: Buffer, operation: ProvisioningRefusedError['operation']): ProvisioningRefusedError {
  let body: Obj = {};
  try {
    body = parseObject(payload, operation);
  } catch {
    // A refusal we cannot read is still a refusal; it is reported with what we know.
  }
  const statusCode = typeof body.statusCode === 'number' ? body.statusCode : null;
  const errorCode = typeof body.errorCode === 'string' ? body.errorCode : 'Unknown';
  const errorMessage = typeof body.errorMessage === 'string' ? body.errorMessage : payload.toString('utf8').slice(0, 200);
  return new ProvisioningRefusedError(operation, statusCode, errorCode, errorMessage);
}

/** `Name=value` strings of the configuration as the template's parameters; DeviceId defaults to the device id. */
export function templateParameters(pairs: readonly string[], deviceId: string): Record<string, string> {
  const parameters: Record<string, string> = { DeviceId: deviceId };
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at > 0) parameters[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return parameters;
}
