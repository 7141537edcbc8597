/**
 * The provisioning state on disk, in <data_dir>/aws-iot/, written so that a power cut at any moment
 * leaves a state the next start resumes from:
 *
 *   device.key         the private key, written (0600, atomically) BEFORE the CSR leaves the device,
 *                      so a certificate issued for it can always be used;
 *   pending.json       certificate id, PEM and ownership token, as they arrived (one file: both or neither);
 *   device.crt         the certificate, once RegisterThing accepted it;
 *   thing.json         the thing name: written last, its presence means "provisioned".
 *
 * Resume: key only (or a certificate that was received but not saved) -> a new CSR with the same key;
 * pending.json without thing.json -> RegisterThing with the stored token. Every file is 0600.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writePrivateFileAtomic } from '../../lib/atomic-file.js';
import type { IssuedCertificate } from './api.js';

export interface DeviceIdentity {
  thingName: string;
  certFile: string;
  keyFile: string;
}

/** Where a half-finished provisioning stopped. */
export type ProvisioningState =
  | { step: 'new' }
  | { step: 'key'; keyPem: string }
  | { step: 'certificate'; keyPem: string; certificate: IssuedCertificate }
  | { step: 'done'; identity: DeviceIdentity };

export class ProvisioningFiles {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'aws-iot');
  }

  get keyFile(): string {
    return join(this.dir, 'device.key');
  }

  get certFile(): string {
    return join(this.dir, 'device.crt');
  }

  get pendingFile(): string {
    return join(this.dir, 'pending.json');
  }

  get thingFile(): string {
    return join(this.dir, 'thing.json');
  }

  /** Reads what a previous run left; temporary files of writes a power cut interrupted are removed. */
  async load(): Promise<ProvisioningState> {
    await this.removeInterruptedWrites();
    return this.read();
  }

  /**
   * What is on disk, touching nothing: `edge-agent doctor` looks while the daemon may be provisioning,
   * and removing a temporary file then would break the daemon's write in progress.
   */
  async read(): Promise<ProvisioningState> {
    const keyPem = await readIfExists(this.keyFile);
    if (keyPem === null) return { step: 'new' };
    const thing = await readIfExists(this.thingFile);
    const cert = await readIfExists(this.certFile);
    if (thing !== null && cert !== null) {
      const { thingName } = JSON.parse(thing) as { thingName: string };
      return { step: 'done', identity: { thingName, certFile: this.certFile, keyFile: this.keyFile } };
    }
    const pending = await readIfExists(this.pendingFile);
    if (pending !== null) return { step: 'certificate', keyPem, certificate: JSON.parse(pending) as IssuedCertificate };
    return { step: 'key', keyPem };
  }

  async saveKey(keyPem: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writePrivateFileAtomic(this.keyFile, keyPem);
  }

  async saveIssuedCertificate(certificate: IssuedCertificate): Promise<void> {
    await writePrivateFileAtomic(this.pendingFile, JSON.stringify(certificate));
  }

  /** The certificate is registered to `thingName`: the identity is complete. */
  async saveThing(certificatePem: string, thingName: string): Promise<DeviceIdentity> {
    await writePrivateFileAtomic(this.certFile, certificatePem);
    await writePrivateFileAtomic(this.thingFile, JSON.stringify({ thingName }));
    await rm(this.pendingFile, { force: true });
    return { thingName, certFile: this.certFile, keyFile: this.keyFile };
  }

  /** Forgets an issued certificate whose token AWS no longer takes: the next step is a new CSR (same key). */
  async discardIssuedCertificate(): Promise<void> {
    await rm(this.pendingFile, { force: true });
  }

  private async removeInterruptedWrites(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names) if (name.startsWith('.') && name.endsWith('.tmp')) await rm(join(this.dir, name), { force: true });
  }
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
