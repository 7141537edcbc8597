/**
 * Splits an MJPEG byte stream (concatenated JPEG images, as rpicam-vid and ffmpeg write them) into
 * whole JPEG images, whatever the chunk boundaries, bit for bit.
 *
 * It walks the JPEG marker structure instead of searching for FFD9: marker segments (APPn, DQT, DHT,
 * SOF, SOS headers...) are skipped by their length field, so an EXIF thumbnail inside APP1, which carries
 * its own SOI and EOI, cannot end the frame early. In entropy-coded data a 0xFF byte is always followed
 * by 0x00 (stuffing), a restart marker or a real marker, so FFD9 there is the end of the image.
 * Progressive images (several scans with DHT/SOS between them) are handled by going back to the marker
 * walk at any other marker.
 */

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const TEM = 0x01;
const RST0 = 0xd0;
const RST7 = 0xd7;

const isStandalone = (marker: number) => marker === TEM || (marker >= RST0 && marker <= RST7);

type State = 'seek-soi' | 'markers' | 'entropy';

export class JpegStreamSplitter {
  private buf: Buffer;
  private len = 0;
  /** Where the frame being assembled starts (its SOI), or -1 while looking for one. */
  private frameStart = -1;
  /** Next byte to examine; may run ahead of `len` while a segment's bytes are still to come. */
  private pos = 0;
  private state: State = 'seek-soi';

  /** Bytes thrown away outside any frame (garbage before an SOI, oversized or broken frames). */
  skippedBytes = 0;
  /** Frames abandoned: cut short by a new SOI, structurally corrupt, or larger than the limit. */
  brokenFrames = 0;

  constructor(
    /** A frame larger than this is dropped, so a stream without EOI cannot grow memory without bound. */
    private readonly maxFrameBytes = 16 * 1024 * 1024,
    initialCapacity = 256 * 1024,
  ) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  /** Feeds the next chunk; returns the frames it completed (each a copy the caller owns). */
  push(chunk: Buffer): Buffer[] {
    this.append(chunk);
    const frames: Buffer[] = [];
    this.scan(frames);
    return frames;
  }

  /** Forgets any partial frame: the next byte starts a new stream (a restarted process). */
  reset(): void {
    if (this.frameStart >= 0) this.brokenFrames++;
    this.len = 0;
    this.pos = 0;
    this.frameStart = -1;
    this.state = 'seek-soi';
  }

  private scan(frames: Buffer[]): void {
    const buf = this.buf;
    for (;;) {
      if (this.state === 'seek-soi') {
        if (!this.seekSoi()) return;
        continue;
      }
      const examined = Math.min(this.pos, this.len);
      if (examined - this.frameStart > this.maxFrameBytes) {
        this.abandonFrame(examined);
        continue;
      }
      if (this.state === 'entropy') {
        // Jump to the next 0xFF: entropy-coded data is most of a frame and holds few of them.
        const ff = buf.subarray(0, this.len).indexOf(0xff, this.pos);
        if (ff < 0) {
          this.pos = this.len;
          return;
        }
        if (ff + 1 >= this.len) {
          this.pos = ff;
          return;
        }
        const next = buf[ff + 1]!;
        if (next === 0x00 || isStandalone(next)) this.pos = ff + 2;
        else if (next === 0xff) this.pos = ff + 1; // fill byte: the next 0xFF may start a marker
        else {
          this.pos = ff;
          this.state = 'markers';
        }
        continue;
      }
      // state === 'markers': pos is at a marker (0xFF xx).
      if (this.pos + 2 > this.len) return;
      if (buf[this.pos] !== 0xff) {
        this.abandonFrame(this.frameStart + 1);
        continue;
      }
      const marker = buf[this.pos + 1]!;
      if (marker === 0xff) {
        this.pos += 1;
      } else if (marker === SOI) {
        // A new image began before this one ended (the writer restarted mid-frame): keep the new one.
        this.brokenFrames++;
        this.frameStart = this.pos;
        this.pos += 2;
      } else if (marker === EOI) {
        const end = this.pos + 2;
        if (end - this.frameStart > this.maxFrameBytes) {
          this.abandonFrame(end);
          continue;
        }
        frames.push(Buffer.from(buf.subarray(this.frameStart, end)));
        this.frameStart = -1;
        this.pos = end;
        this.state = 'seek-soi';
      } else if (isStandalone(marker)) {
        this.pos += 2;
      } else if (marker === 0x00) {
        this.abandonFrame(this.frameStart + 1);
      } else {
        if (this.pos + 4 > this.len) return;
        const length = buf.readUInt16BE(this.pos + 2);
        if (length < 2) {
          this.abandonFrame(this.frameStart + 1);
          continue;
        }
        this.pos += 2 + length;
        if (marker === SOS) this.state = 'entropy';
        if (this.pos > this.len) return;
      }
    }
  }

  /** Looks for an SOI from `pos`; drops what comes before it. Returns false when more bytes are needed. */
  private seekSoi(): boolean {
    const view = this.buf.subarray(0, this.len);
    let at = this.pos;
    for (;;) {
      at = view.indexOf(0xff, at);
      if (at < 0 || at + 1 >= this.len) break;
      if (view[at + 1] === SOI) {
        this.skippedBytes += at - this.pos;
        this.frameStart = at;
        this.pos = at + 2;
        this.state = 'markers';
        return true;
      }
      at += 1;
    }
    // Keep a trailing 0xFF: it may be the first half of an SOI split across chunks.
    const keepFrom = at >= 0 ? at : this.len;
    this.skippedBytes += keepFrom - this.pos;
    this.pos = keepFrom;
    return false;
  }

  /** Drops the frame in progress and resumes the SOI search at `resumeAt`. */
  private abandonFrame(resumeAt: number): void {
    this.brokenFrames++;
    this.skippedBytes += resumeAt - this.frameStart;
    this.frameStart = -1;
    this.pos = resumeAt;
    this.state = 'seek-soi';
  }

  /**
   * Appends a chunk, first moving the live bytes (the frame in progress, or the unsearched tail) to the
   * front, and growing the buffer by doubling. Compacting only when full keeps pushing O(n) overall even
   * for 1-byte chunks.
   */
  private append(chunk: Buffer): void {
    if (this.len + chunk.length > this.buf.length) {
      const keep = this.frameStart >= 0 ? this.frameStart : Math.min(this.pos, this.len);
      const live = this.len - keep;
      let capacity = Math.max(this.buf.length, 1024);
      while (live + chunk.length > capacity) capacity *= 2;
      const target = capacity === this.buf.length ? this.buf : Buffer.allocUnsafe(capacity);
      this.buf.copy(target, 0, keep, this.len);
      this.buf = target;
      this.len = live;
      this.pos -= keep;
      if (this.frameStart >= 0) this.frameStart -= keep;
    }
    chunk.copy(this.buf, this.len);
    this.len += chunk.length;
  }
}

/** True when `data` is exactly one structurally complete JPEG, SOI to EOI (a still or a replayed file). */
export function isCompleteJpeg(data: Buffer): boolean {
  const frames = new JpegStreamSplitter(data.length + 1, data.length).push(data);
  return frames.length === 1 && frames[0]!.length === data.length;
}
