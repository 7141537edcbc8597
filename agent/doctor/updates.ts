/**
 * How the agent takes model updates: whether remote ones (MQTT, AWS IoT Jobs, Home Assistant) must be
 * signed, and a warning when the configuration accepts them unsigned.
 */
import { mqttBaseTopic } from '../mqtt/client-options.js';
import { pass, warn, type Check } from './types.js';

export const updatesCheck: Check = {
  id: 'updates',
  title: 'model updates',
  required: false,
  async run({ config }) {
    const { public_key, allow_unsigned_remote_updates } = config.ota;
    if (public_key !== null) {
      const moot = allow_unsigned_remote_updates ? ' (ota.allow_unsigned_remote_updates has no effect while a key is set)' : '';
      return pass(`every update must be signed with the key of ota.public_key${moot}`);
    }
    if (!allow_unsigned_remote_updates) {
      return pass('remote updates are refused: no ota.public_key to check their signatures (local installs with edge-agent models work)');
    }
    const topic = `${mqttBaseTopic(config.mqtt, config.device_id)}/cmd/model-update`;
    return warn(
      `remote updates are accepted unsigned (ota.allow_unsigned_remote_updates): anyone who can publish to ${topic} can replace the models`,
      'sign updates (npm run sign:model -- keygen), set ota.public_key to the public key, and remove ota.allow_unsigned_remote_updates',
    );
  },
};
