/**
 * An upload body that reads a file into two buffers in turn instead of a fresh buffer per
 * read (a file read stream's): a map output or a part is sent in 4 MiB reads, and 64 MiB of
 * fresh external memory per map output was a large share of the full collections V8 runs
 * on a worker ("GC in old space requested" with a live heap of ~20 MB).
 */
import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';

/**
 * A Readable of `size` bytes of `path`, in chunks of up to `chunkBytes`, that reuses the
 * buffer of the chunk before the previous one.
 *
 * Only for a consumer that pipes it into a writable with backpressure and no copy-free
 * queue of its own (`readable.pipe(request)`, what the SDK's Node HTTP handler does with a
 * stream body; not the SDK's aws-chunked checksum wrapper, which pushes each chunk into a
 * queue without waiting: callers pass the CRC-32 header so that wrapper is not used). Why
 * two buffers are enough: with a high-water mark of one byte the stream reads ahead at most
 * one chunk; a chunk is read into a buffer again only when a read is asked for two chunks
 * later, and `pipe` asks for that only once the writable took the chunk between (its
 * `write` returned true: handed to the kernel whole, since a chunk is above the socket's
 * high-water mark) or after its 'drain' (all written).
 */
export function reusingFileBody(path: string, size: number, chunkBytes: number): Readable {
  const buffers = [Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(1, size))), Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(1, size)))];
  let fh: FileHandle | undefined;
  let next = 0;
  let position = 0;
  return new Readable({
    highWaterMark: 1,
    construct(cb) {
      open(path, 'r').then(
        (h) => {
          fh = h;
          cb();
        },
        (err: Error) => cb(err),
      );
    },
    read() {
      if (position >= size) {
        this.push(null);
        return;
      }
      const buf = buffers[next]!;
      next ^= 1;
      fh!.read(buf, 0, Math.min(buf.length, size - position), position).then(
        ({ bytesRead }) => {
          if (bytesRead === 0) {
            this.destroy(new Error(`${path} ended at ${position} of ${size} bytes`));
            return;
          }
          position += bytesRead;
          this.push(buf.subarray(0, bytesRead));
        },
        (err: Error) => this.destroy(err),
      );
    },
    destroy(err, cb) {
      const h = fh;
      fh = undefined;
      if (!h) return cb(err);
      h.close().then(
        () => cb(err),
        () => cb(err),
      );
    },
  });
}
