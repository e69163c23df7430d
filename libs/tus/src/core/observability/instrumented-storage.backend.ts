import { Transform, type TransformCallback, type Readable } from 'node:stream';
import type { NewUpload, UploadInfo } from '../../protocol/upload-info.js';
import type { ChunkSource, ReleaseLock, TusStorageBackend, UploadChanges } from '../../storage/tus-storage-backend.interface.js';
import { NO_METRICS, type TusCallOutcome, type TusMetrics } from './tus-metrics.js';
import type { TusSpanAttributes, TusTracing } from './tus-tracing.js';

/**
 * The backend's name in metrics and spans: `file` for `FileStorageBackend`, `s3` for
 * `S3StorageBackend`, the lower-cased class name less `StorageBackend` for any other.
 */
export function backendName(backend: TusStorageBackend): string {
  const name = backend.constructor?.name || 'custom';
  return name.replace(/StorageBackend$/, '').toLowerCase() || 'custom';
}

/**
 * The configured backend behind a decorator that times every call (metric
 * `tus_storage_call_duration_seconds`, and `tus_lock_wait_seconds` for `lock`), opens a span per call
 * (`tus.storage.<operation>`, with the upload id and offset) and counts the bytes handed to
 * `write`. Built once, at start-up, when metrics or tracing are on; the backends stay unaware of it.
 * Methods are looked up on the backend at each call, so a method replaced on the instance later
 * (tests do) is the one called.
 */
export class InstrumentedStorageBackend implements TusStorageBackend {
  readonly name: string;

  constructor(
    private readonly inner: TusStorageBackend,
    private readonly metrics: TusMetrics,
    private readonly tracing: TusTracing,
  ) {
    this.name = backendName(inner);
    // Optional capabilities: present on the decorator exactly when the backend has them.
    if (inner.init === undefined) this.init = undefined;
    if (inner.checkHealth === undefined) this.checkHealth = undefined;
    if (inner.lock === undefined) this.lock = undefined;
    if (inner.concatenate === undefined) this.concatenate = undefined;
    if (inner.list === undefined) this.list = undefined;
  }

  get readsUnfinished(): boolean | undefined {
    return this.inner.readsUnfinished;
  }

  init? = (): Promise<void> => this.call('init', {}, () => this.inner.init!());

  checkHealth? = (): Promise<void> => this.call('checkHealth', {}, () => this.inner.checkHealth!());

  create(upload: NewUpload): Promise<UploadInfo> {
    return this.call('create', { 'tus.upload.id': upload.id, 'tus.upload.length': upload.length ?? undefined }, () => this.inner.create(upload));
  }

  get(id: string): Promise<UploadInfo> {
    return this.call('get', { 'tus.upload.id': id }, () => this.inner.get(id), (upload) => ({ 'tus.upload.offset': upload.offset }));
  }

  lock? = async (id: string, onReleaseRequested?: () => void): Promise<ReleaseLock> => {
    const started = performance.now();
    let outcome: TusCallOutcome = 'error';
    try {
      const release = await this.call('lock', { 'tus.upload.id': id }, () => this.inner.lock!(id, onReleaseRequested));
      outcome = 'ok';
      return release;
    } finally {
      this.metrics.lockWaited(this.name, (performance.now() - started) / 1000, outcome);
    }
  };

  update(upload: UploadInfo, changes: UploadChanges): Promise<UploadInfo> {
    return this.call('update', uploadAttributes(upload), () => this.inner.update(upload, changes), offsetOf);
  }

  write(upload: UploadInfo, chunk: ChunkSource, changes?: UploadChanges): Promise<UploadInfo> {
    if (this.metrics === NO_METRICS) return this.call('write', uploadAttributes(upload), () => this.inner.write(upload, chunk, changes), offsetOf);
    const counted: ChunkSource = {
      stream: chunk.stream,
      stages: [...chunk.stages, new ByteCounter((bytes) => this.metrics.bytesReceived(bytes))],
      verify: (newOffset) => chunk.verify(newOffset),
      keepOnInterrupt: chunk.keepOnInterrupt,
    };
    return this.call('write', uploadAttributes(upload), () => this.inner.write(upload, counted, changes), offsetOf);
  }

  concatenate? = (upload: NewUpload | UploadInfo, parts: UploadInfo[]): Promise<UploadInfo> =>
    this.call('concatenate', { 'tus.upload.id': upload.id, 'tus.concat.parts': parts.length }, () => this.inner.concatenate!(upload, parts), offsetOf);

  remove(upload: UploadInfo): Promise<void> {
    return this.call('remove', uploadAttributes(upload), () => this.inner.remove(upload));
  }

  /** Timed until the stream is handed over, not while it is read. */
  createReadStream(upload: UploadInfo, range?: { start?: number; end?: number }): Promise<Readable> {
    return this.call('createReadStream', uploadAttributes(upload), () => this.inner.createReadStream(upload, range));
  }

  /** Timed from the first request for an entry to the last one, as one call. */
  list? = (): AsyncIterable<UploadInfo> => this.listing();

  private async *listing(): AsyncIterable<UploadInfo> {
    const span = this.tracing.start('tus.storage.list', { 'tus.storage.backend': this.name, 'tus.storage.operation': 'list' });
    const started = performance.now();
    let outcome: TusCallOutcome = 'error';
    let count = 0;
    try {
      for await (const upload of this.inner.list!()) {
        count++;
        yield upload;
      }
      outcome = 'ok';
    } catch (error) {
      span.fail(error);
      throw error;
    } finally {
      this.metrics.storageCall(this.name, 'list', (performance.now() - started) / 1000, outcome);
      span.setAttributes({ 'tus.storage.entries': count });
      span.end();
    }
  }

  private async call<T>(operation: string, attributes: TusSpanAttributes, work: () => Promise<T>, describe?: (result: T) => TusSpanAttributes): Promise<T> {
    // Tracing available but no SDK registered (yet), and no metrics: nothing to record.
    if (this.metrics === NO_METRICS && !this.tracing.enabled) return work();
    const span = this.tracing.start(`tus.storage.${operation}`, { 'tus.storage.backend': this.name, 'tus.storage.operation': operation, ...attributes });
    const started = performance.now();
    let outcome: TusCallOutcome = 'error';
    try {
      const result = await this.tracing.within(span, work);
      outcome = 'ok';
      if (describe) span.setAttributes(describe(result));
      return result;
    } catch (error) {
      span.fail(error);
      throw error;
    } finally {
      this.metrics.storageCall(this.name, operation, (performance.now() - started) / 1000, outcome);
      span.end();
    }
  }
}

function uploadAttributes(upload: UploadInfo): TusSpanAttributes {
  return { 'tus.upload.id': upload.id, 'tus.upload.offset': upload.offset };
}

/** The state a call returned: the offset it left the upload at. */
function offsetOf(upload: UploadInfo): TusSpanAttributes {
  return { 'tus.upload.new_offset': upload.offset, 'tus.upload.completed': upload.completedAt !== null };
}

/** Counts the bytes that passed every stage (size limit, digest) on their way to the backend. */
class ByteCounter extends Transform {
  constructor(private readonly count: (bytes: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.count(chunk.length);
    callback(null, chunk);
  }
}
