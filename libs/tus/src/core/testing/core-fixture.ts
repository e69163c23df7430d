import { EventEmitter2 } from '@nestjs/event-emitter';
import { Readable } from 'node:stream';
import { TUS_EXTENSIONS } from '../../protocol/tus.constants.js';
import { MemoryStorageBackend } from '../../storage/memory/memory-storage.backend.js';
import { composeStorage } from '../../storage/storage-composer.js';
import { ActiveWrites } from '../active-writes.js';
import { TusEventsEmitter } from '../events/tus-events.emitter.js';
import { NO_METRICS } from '../observability/tus-metrics.js';
import { NO_TRACING } from '../observability/tus-tracing.js';
import { TusConcatenationService } from '../tus-concatenation.service.js';
import type { TusConfig } from '../tus-config.js';
import type { TusClock } from '../tus.clock.js';
import { TusUploadService } from '../tus-upload.service.js';
import { UploadAccess } from '../upload-access.js';
import type { UploadBody } from '../upload-body.js';
import { UploadWriter } from '../upload-writer.js';

/** A clock the test moves by hand. */
export class TestClock implements TusClock {
  constructor(public current = Date.UTC(2026, 0, 1)) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(seconds: number): void {
    this.current += seconds * 1000;
  }
}

/** The core wired by hand, as the module wires it, on an in-memory backend: no Nest app, no HTTP. */
export interface CoreFixture {
  uploads: TusUploadService;
  backend: MemoryStorageBackend;
  events: EventEmitter2;
  /** Every event emitted, as `name:id`, in order. */
  emitted: string[];
  clock: TestClock;
  activeWrites: ActiveWrites;
}

export function createCore(overrides: Partial<TusConfig> = {}): CoreFixture {
  const backend = new MemoryStorageBackend();
  const clock = new TestClock();
  const events = new EventEmitter2({ wildcard: true });
  const emitted: string[] = [];
  events.onAny((name, payload: { upload: { id: string } }) => emitted.push(`${String(name)}:${payload.upload.id}`));
  const config: TusConfig = {
    backend,
    store: composeStorage(backend, 200),
    storage: backend,
    metrics: NO_METRICS,
    tracing: NO_TRACING,
    extensions: new Set(TUS_EXTENSIONS),
    advertisedMaxSize: undefined,
    maxSize: async () => Number.MAX_SAFE_INTEGER,
    expirationSeconds: 3600,
    postReceiveIntervalMs: 1000,
    generateId: (() => {
      let next = 0;
      return () => `u${++next}`;
    })(),
    metadataOverride: undefined,
    authorize: undefined,
    download: true,
    downloadUnfinished: false,
    cleanupIntervalMs: undefined,
    shutdownTimeoutMs: 1000,
    ...overrides,
  };
  const emitter = new TusEventsEmitter(events);
  const activeWrites = new ActiveWrites();
  const access = new UploadAccess(config, clock, activeWrites);
  const concatenation = new TusConcatenationService(config, emitter, access, clock);
  const writer = new UploadWriter(config, emitter, activeWrites);
  const uploads = new TusUploadService(config, emitter, clock, activeWrites, access, concatenation, writer);
  return { uploads, backend, events, emitted, clock, activeWrites };
}

/**
 * A body as a front door would hand it: `pieces`, then the end, or (`cut`) a failure after them
 * as a lost connection; `verify` throws what a checksum mismatch would.
 */
export function bodyOf(pieces: (string | Buffer)[], options: { cut?: boolean; verify?: () => void; declared?: number } = {}): UploadBody {
  const buffers = pieces.map((piece) => Buffer.from(piece));
  const total = buffers.reduce((sum, piece) => sum + piece.length, 0);
  let stream: Readable | undefined;
  return {
    declaredLength: options.declared ?? (options.cut ? undefined : total),
    stages: [],
    keepOnInterrupt: options.verify === undefined,
    verify: options.verify ?? (() => undefined),
    open: () => {
      stream = Readable.from(
        (async function* () {
          yield* buffers;
          // Cut a moment later, as a connection is: what was sent has reached the storage.
          if (options.cut) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            throw new Error('aborted');
          }
        })(),
      );
      return stream;
    },
    close: () => undefined,
    get receiving() {
      return stream !== undefined && !stream.readableEnded && !stream.destroyed;
    },
    heldBack: false,
    get clientGone() {
      return stream?.destroyed ?? false;
    },
    interrupt: (reason) => stream?.destroy(reason),
  };
}

/** What the core's hooks receive from the tests: any object stands for the request. */
export const CONTEXT = { test: true };
