/**
 * The device's AWS IoT identity before the Agent starts. With `mqtt.aws_iot.provisioning.template` set
 * and no `mqtt.cert` of its own, the device provisions itself by claim (agent/mqtt/provisioning/) or
 * picks up the identity an earlier run stored in <data_dir>/aws-iot/; the Agent then connects with that
 * certificate and key, and the thing name as client id and topic level.
 *
 * Provisioning can take long (AWS unreachable: retries up to every 10 minutes), so while it waits the
 * daemon asks systemd again and again for more start-up time instead of being killed as hung.
 */
import type { AgentConfig } from '../config/types.js';
import type { Logger } from '../lib/log.js';
import { templateParameters } from '../mqtt/provisioning/api.js';
import { ProvisioningFiles, type DeviceIdentity } from '../mqtt/provisioning/files.js';
import { Provisioner, type ProvisionerDeps } from '../mqtt/provisioning/provisioner.js';
import { claimConnection } from '../mqtt/provisioning/session.js';

/** How often systemd is asked for more time, and how much is asked each time (twice that). */
const EXTEND_EVERY_MS = 30_000;

export interface AwsIdentityDeps {
  logger: Logger;
  /** systemd's notify socket (agent/daemon/sd-notify.ts); absent in tests. */
  notify?: { extendTimeout(ms: number, status: string): Promise<void> };
  signal?: AbortSignal;
  /** Test seams: backoff, request timeout, sleep. */
  tuning?: Pick<ProvisionerDeps, 'backoff' | 'requestTimeoutMs' | 'sleep'>;
}

/** Provisioning by claim is on and the device has no certificate configured of its own. */
export function provisionsByClaim(config: AgentConfig): boolean {
  return config.mqtt.aws_iot.provisioning.template !== null && config.mqtt.cert === null;
}

/** `config` as the Agent should run it: with the provisioned identity when provisioning by claim. */
export async function withAwsIdentity(config: AgentConfig, deps: AwsIdentityDeps): Promise<AgentConfig> {
  if (!provisionsByClaim(config)) return config;
  const identity = await provision(config, deps);
  return withIdentity(config, identity);
}

/**
 * The identity an earlier run provisioned, or null (not provisioned yet, or provisioning by claim is not
 * used). Read-only, for `edge-agent doctor`: it provisions nothing and removes nothing.
 */
export async function storedAwsIdentity(config: AgentConfig): Promise<DeviceIdentity | null> {
  if (!provisionsByClaim(config)) return null;
  const state = await new ProvisioningFiles(config.data_dir).read();
  return state.step === 'done' ? state.identity : null;
}

async function provision(config: AgentConfig, deps: AwsIdentityDeps): Promise<DeviceIdentity> {
  const { provisioning } = config.mqtt.aws_iot;
  const extend = () => void deps.notify?.extendTimeout(2 * EXTEND_EVERY_MS, 'provisioning by claim with AWS IoT');
  const timer = setInterval(extend, EXTEND_EVERY_MS);
  extend();
  try {
    const provisioner = new Provisioner({
      files: new ProvisioningFiles(config.data_dir),
      connection: (attempt) => claimConnection(config.mqtt, config.device_id, attempt),
      template: provisioning.template as string,
      parameters: templateParameters(provisioning.parameters, config.device_id),
      deviceId: config.device_id,
      logger: deps.logger,
      ...deps.tuning,
    });
    return await provisioner.run(deps.signal);
  } finally {
    clearInterval(timer);
  }
}

export function withIdentity(config: AgentConfig, identity: DeviceIdentity): AgentConfig {
  const { mqtt } = config;
  return {
    ...config,
    mqtt: { ...mqtt, cert: identity.certFile, key: identity.keyFile, aws_iot: { ...mqtt.aws_iot, thing_name: identity.thingName } },
  };
}

/**
 * A configuration loaded again from the file (a remote change) as the running agent sees it: the
 * provisioned identity is not in the file, and without this every change would list the certificate,
 * key and thing name as changed and waiting for a restart.
 */
export function keepProvisionedIdentity(running: AgentConfig, next: AgentConfig): AgentConfig {
  if (!provisionsByClaim(next) || running.mqtt.aws_iot.thing_name === null || running.mqtt.cert === null || running.mqtt.key === null) return next;
  return withIdentity(next, { thingName: running.mqtt.aws_iot.thing_name, certFile: running.mqtt.cert, keyFile: running.mqtt.key });
}
