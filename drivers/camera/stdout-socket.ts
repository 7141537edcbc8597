/**
 * A capture process's stdout as one end of a unix stream socket whose other end is read straight into
 * memory the reader chooses (net.Socket's `onread`), instead of a pipe.
 *
 * Why not the pipe `spawn` makes: Node reads a pipe in reads of at most 64 KB into a buffer it allocates
 * for each read, and hands each on through the stream machinery. A 1280x720 yuv420 stream at 10 fps is
 * ~220 such reads a second, and with the frame copies they cost ~3 % of a core here for a scene where
 * nothing happens. Reading into the frame being gathered (see FrameSplitter) takes ~0.5 %: about four
 * times fewer reads (a socket queues more than a pipe's 64 KB), and no allocation or copy.
 *
 * The writer sees an ordinary stream on fd 1: rpicam-vid's `fwrite`, ffmpeg's `pipe:1`, EPIPE and SIGPIPE
 * when the reader has gone, as with a pipe. The socket is made through a listening socket in a private
 * temporary directory (mode 0700: no other user can connect in the moment it exists), removed at once.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the bytes of a read go, and who is told how many came. */
export interface ReadSink {
  /** Memory for the next read (at least one byte); asked again after every read. */
  readBuffer(): Uint8Array;
  /** The last read wrote `bytes` bytes at the start of the memory `readBuffer()` gave. */
  received(bytes: number): void;
}

export interface StdoutSocket {
  /** For `spawn`'s stdio[1]; close it in this process once the child has it (`destroy()`). */
  childEnd: net.Socket;
  /** Our end: every read goes to the sink; 'close' comes once the writer (and any copy of its end) is gone. */
  reader: net.Socket;
}

/**
 * A unix socket's path must fit in `sun_path` (108 bytes on Linux). Node does not refuse a longer one: it
 * cuts it short, which would bind outside the private directory, so a longer one is refused here.
 */
const MAX_SOCKET_PATH_BYTES = 107;

export async function openStdoutSocket(sink: ReadSink): Promise<StdoutSocket> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-agent-'));
  const server = net.createServer();
  try {
    const path = join(dir, 'out');
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
      throw new Error(`the capture socket path ${path} is longer than a unix socket allows (${MAX_SOCKET_PATH_BYTES} bytes): set TMPDIR to a shorter directory`);
    }
    server.listen(path);
    await once(server, 'listening');
    const reader = net.connect({
      path,
      onread: {
        buffer: () => sink.readBuffer(),
        // true: keep reading (false would pause the socket).
        callback: (bytes: number) => {
          sink.received(bytes);
          return true;
        },
      },
    });
    const childEnd = await new Promise<net.Socket>((resolve, reject) => {
      reader.once('error', reject);
      server.once('connection', (socket: net.Socket) => {
        reader.off('error', reject);
        resolve(socket);
      });
    });
    return { childEnd, reader };
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
