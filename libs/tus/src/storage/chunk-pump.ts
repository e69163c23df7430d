import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { ChunkSource } from './tus-storage-backend.interface.js';

/**
 * Moves a chunk's body through its stages into `sink`, then ends the sink. Unlike a plain
 * `pipeline(..., sink)`, a failing body does not destroy the sink: the bytes it had already
 * accepted are flushed, so an interrupted request keeps what arrived (checklist 18). Resolves
 * with the body's error, if any; rejects only when the sink itself fails.
 */
export async function pumpChunk(chunk: ChunkSource, sink: Writable): Promise<unknown> {
  let failure: unknown;
  // The sink's own error (a full disk) is taken from `sink.errored` and `finished()` below; while
  // the loop waits for the body, nothing else listens, and an unheard 'error' is an uncaught one.
  sink.on('error', () => undefined);
  try {
    // The array form takes a generator function as the last stage; its typings do not say so.
    await (pipeline as unknown as (streams: unknown[]) => Promise<void>)([
      chunk.stream,
      ...chunk.stages,
      async (source: AsyncIterable<Buffer>) => {
        for await (const piece of source) {
          // A sink that failed (a full disk) while this loop waited for the body emitted its error
          // then: it would never emit 'drain' now.
          if (sink.destroyed) throw sink.errored ?? new Error('The file closed before the chunk was stored');
          if (!sink.write(piece)) await once(sink, 'drain');
        }
      },
    ]);
  } catch (error) {
    if (sink.errored) throw sink.errored;
    failure = error;
  }
  sink.end();
  await finished(sink);
  return failure;
}
