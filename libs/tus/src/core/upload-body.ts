import type { Readable, Transform } from 'node:stream';

/**
 * A request body as the core sees it, prepared by a front door: the bytes, the stages they pass
 * through (a checksum's digest), the check that runs once they have all passed, and the few facts
 * about the transfer the core needs to give way to a newer request or to a shutdown. The core
 * never sees the HTTP request itself.
 */
export interface UploadBody {
  /**
   * The bytes announced (`Content-Length`; 0 for a request without a body), undefined when not
   * known in advance (chunked): a chunk that cannot fit is refused unread.
   */
  readonly declaredLength: number | undefined;
  /** Stages every byte passes through after the core's own byte count, in order (a checksum's digest). */
  readonly stages: readonly Transform[];
  /**
   * Runs once the body has ended, before the offset moves: a throw (checksum mismatch 460, a
   * missing trailer 400) discards the whole chunk.
   */
  verify(): void;
  /** Whether bytes that arrived before the body was cut off are kept: false while it must be verified whole. */
  readonly keepOnInterrupt: boolean;
  /**
   * Starts reading, once the upload's lock is held: the bytes, watched for idleness (the front
   * door's idle timeout) until {@link close}. Called at most once.
   */
  open(): Readable;
  /** Stops watching; called once the write has ended, however it ended. */
  close(): void;
  /** The client is still sending: the body has neither all arrived nor been cut off. */
  readonly receiving: boolean;
  /** The server holds the body back right now (bytes wait unread: storage slower than the client). */
  readonly heldBack: boolean;
  /**
   * The client is no longer there to be answered: its connection closed (cut off, ended by the idle
   * timeout or a takeover). It will ask for the offset next.
   */
  readonly clientGone: boolean;
  /** Ends the body early (takeover, shutdown); the write keeps what arrived, as for a cut connection. */
  interrupt(reason: Error): void;
}
