import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { ChunkSource } from './tus-storage-backend.interface.js';

/** The pipeline's array form takes generator functions as stages; its typings do not say so. */
const pipelineOf = pipeline as unknown as (streams: unknown[]) => Promise<void>;

/**
 * Moves a chunk's body through its stages into `sink` (`pipeline` semantics otherwise). A failing
 * body (a cut connection, a takeover, the idle timeout) is not a failing pipeline: the bytes it
 * delivered before failing still pass through the stages and reach the sink, and the sink ends as
 * usual. A plain pipeline would destroy every stage at once and drop what they held (a piece in a
 * stage, up to a megabyte waiting in a part sink's buffer), although those bytes arrived.
 * `sink` may be a generator function consuming the last stage. Resolves with the body's failure, if
 * any; rejects when a stage (413 past the length) or the sink itself fails.
 */
export async function pipeChunk(chunk: ChunkSource, sink: Writable | ((source: AsyncIterable<Buffer>) => Promise<void>)): Promise<unknown> {
  let failure: unknown;
  const body = untilFailure(chunk.stream, (error) => (failure = error));
  await pipelineOf([body, ...chunk.stages, sink]);
  return failure;
}

/** `stream`'s bytes, ending where it fails; `failed` hears the failure. */
function untilFailure(stream: Readable, failed: (error: unknown) => void): () => AsyncGenerator<Buffer> {
  return async function* () {
    try {
      for await (const piece of stream) yield piece as Buffer;
    } catch (error) {
      failed(error);
    }
  };
}

/**
 * {@link pipeChunk} into a sink that must not be destroyed by a failing stage: the bytes it had
 * already accepted are flushed, so an interrupted request keeps what arrived (checklist 18), and a
 * 413 midway keeps the sink for the caller to cut back. Resolves with the failure of the body or
 * of a stage, if any; rejects only when the sink itself fails.
 */
export async function pumpChunk(chunk: ChunkSource, sink: Writable): Promise<unknown> {
  let failure: unknown;
  // The sink's own error (a full disk) is taken from `sink.errored` and `finished()` below; while
  // the loop waits for the body, nothing else listens, and an unheard 'error' is an uncaught one.
  sink.on('error', () => undefined);
  try {
    // Not the sink itself as the last stage: a failing stage would destroy it; this loop only writes to it.
    failure = await pipeChunk(chunk, async (source) => {
      for await (const piece of source) {
        // A sink that failed (a full disk) while this loop waited for the body emitted its error
        // then: it would never emit 'drain' now.
        if (sink.destroyed) throw sink.errored ?? new Error('The file closed before the chunk was stored');
        if (!sink.write(piece)) await once(sink, 'drain');
      }
    });
  } catch (error) {
    if (sink.errored) throw sink.errored;
    failure = error;
  }
  sink.end();
  await finished(sink);
  return failure;
}
