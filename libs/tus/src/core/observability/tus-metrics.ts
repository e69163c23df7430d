/** Whether a storage call or a lock wait succeeded. */
export type TusCallOutcome = 'ok' | 'error';

/**
 * What the module counts, whatever records it: Prometheus when the `metrics` option is on
 * (see `prometheus-metrics.ts`), nothing otherwise ({@link NO_METRICS}). Internal: the module
 * calls it, the app reads the registry.
 */
export interface TusMetrics {
  /** A tus response was sent (every one goes through `TusResponder`). */
  requestAnswered(method: string, status: number): void;
  /** A request reached its handler; the returned function says it ended. */
  requestStarted(method: string): () => void;
  /**
   * A request ended in an error: `kind` is the error's class (`UploadNotFoundError`), `interrupted`
   * or `internal`; `status` is undefined when no answer was sent (the client had left).
   */
  error(kind: string, status: number | undefined): void;
  /** Bytes of a request body handed to the storage. */
  bytesReceived(bytes: number): void;
  uploadCreated(): void;
  uploadFinished(): void;
  /** Every termination: DELETE, `TusStorageService.delete()` and expiry cleanup alike. */
  uploadTerminated(): void;
  /** Expired unfinished uploads removed (they are counted as terminated too). */
  uploadsExpired(count: number): void;
  /** How long a request waited for an upload's lock; `error` when it gave up (423) or failed. */
  lockWaited(backend: string, seconds: number, outcome: TusCallOutcome): void;
  /** A request stalled mid-body was stopped so that a newer one for the same upload could go on. */
  takeover(): void;
  /** One call of the storage backend. */
  storageCall(backend: string, operation: string, seconds: number, outcome: TusCallOutcome): void;
  /** Where the gauges of running writes read their values at scrape time. */
  observeWrites(source: { uploads(): number; bodies(): number }): void;
}

const nothing = (): void => undefined;

/** Metrics off: every call does nothing. */
export const NO_METRICS: TusMetrics = {
  requestAnswered: nothing,
  requestStarted: () => nothing,
  error: nothing,
  bytesReceived: nothing,
  uploadCreated: nothing,
  uploadFinished: nothing,
  uploadTerminated: nothing,
  uploadsExpired: nothing,
  lockWaited: nothing,
  takeover: nothing,
  storageCall: nothing,
  observeWrites: nothing,
};

/** Injection token of the module's {@link TusMetrics}. */
export const TusMetrics = Symbol('TusMetrics');

/**
 * A prom-client `Registry`, described by the little the module needs, so that the library's types do
 * not require prom-client (an optional peer).
 */
export interface TusMetricsRegistry {
  getSingleMetric(name: string): unknown;
  metrics(): Promise<string>;
}

/** Prometheus metrics (option `metrics`); see the README, "Metrics, tracing and health". */
export interface TusMetricsOptions {
  /**
   * The registry the metrics are registered on, e.g. one the app serves itself.
   * @default prom-client's default registry (`register`), the one `@willsoto/nestjs-prometheus` serves
   */
  registry?: TusMetricsRegistry;
  /**
   * Prefix of every metric name (`tus_requests_total`, ...): letters, digits, `_` and `:`.
   * @default 'tus_'
   */
  prefix?: string;
}
