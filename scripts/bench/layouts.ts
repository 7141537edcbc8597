/**
 * Images that are cheap to send and dear to decode, for the decode benchmarks and tests: a flat colour in
 * a given file layout, a few hundred KB on disk however large. A progressive JPEG or an interlaced PNG
 * must be decoded whole (the hostile-input sweep's 8300x8300 ones took about 200 MB each); baseline and
 * plain layouts stream through the resize a band of rows at a time.
 */
import sharp from 'sharp';

export const IMAGE_LAYOUTS = ['baseline-jpeg', 'progressive-jpeg', 'png', 'interlaced-png'] as const;
export type ImageLayout = (typeof IMAGE_LAYOUTS)[number];

export const CONTENT_TYPES: Record<ImageLayout, string> = {
  'baseline-jpeg': 'image/jpeg',
  'progressive-jpeg': 'image/jpeg',
  png: 'image/png',
  'interlaced-png': 'image/png',
};

/** A flat-colour `width` x `height` image in `layout` (`chroma` for JPEG: 4:2:0 as cameras and phones write, or 4:4:4). */
export function flatImage(layout: ImageLayout, width: number, height: number, chroma: '4:2:0' | '4:4:4' = '4:2:0'): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: 3, background: { r: 90, g: 120, b: 200 } } });
  switch (layout) {
    case 'baseline-jpeg':
      return image.jpeg({ progressive: false, quality: 80, chromaSubsampling: chroma }).toBuffer();
    case 'progressive-jpeg':
      return image.jpeg({ progressive: true, quality: 80, chromaSubsampling: chroma }).toBuffer();
    case 'png':
      return image.png({ progressive: false, compressionLevel: 9 }).toBuffer();
    case 'interlaced-png':
      return image.png({ progressive: true, compressionLevel: 9 }).toBuffer();
  }
}
