import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';

/**
 * `size` bytes from one random block of `piece` bytes, streamed a piece at a time (tus-js-client
 * sends a stream source's pieces as they come, one PATCH each); the sha256 is known once the stream
 * has ended. Nothing but the one block is held, whatever the size.
 */
export function generatedBytes(size: number, piece: number): { stream: Readable; digest: () => string } {
  const block = randomBytes(piece);
  const hash = createHash('sha256');
  const stream = Readable.from(
    (function* () {
      for (let sent = 0; sent < size; sent += piece) {
        const next = block.subarray(0, Math.min(piece, size - sent));
        hash.update(next);
        yield next;
      }
    })(),
  );
  return { stream, digest: () => hash.digest('hex') };
}

/** The sha256 of a download, streamed (never held whole). */
export function downloadDigest(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      const hash = createHash('sha256');
      res.on('data', (chunk: Buffer) => hash.update(chunk));
      res.on('end', () => resolve(hash.digest('hex')));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}
