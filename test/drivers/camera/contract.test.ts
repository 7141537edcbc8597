import sharp from 'sharp';
import { FakeCamera } from '../../fakes/camera.js';
import { describeCameraContract } from './camera-contract.js';

/** A small real JPEG: the contract decodes every frame. */
const image = () => sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 40, g: 90, b: 160 } } }).jpeg().toBuffer();

// The double that the vision tests use in place of a driver keeps the same promises as the drivers.
describeCameraContract('in-memory fake (test/fakes/camera.ts)', async () => new FakeCamera({ live: { fps: 20, images: [await image()] } }), {
  format: 'jpeg',
  fps: 20,
  size: { width: 64, height: 48 },
});
