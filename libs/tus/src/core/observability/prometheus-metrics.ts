import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { TusOptionsError } from '../../errors/tus.errors.js';
import type { TusMetrics, TusMetricsOptions } from './tus-metrics.js';

/** The default name prefix, like tusd's `tusd_`. */
export const DEFAULT_METRICS_PREFIX = 'tus_';

/** Seconds: storage calls range from a `get` (ms) to a PATCH of a large body (minutes). */
const STORAGE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Seconds: a lock is granted at once, or after a wait of up to `lockTimeoutMs` (3 s by default). */
const LOCK_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10];

type PromClient = typeof import('prom-client');
type WriteSource = Parameters<TusMetrics['observeWrites']>[0];

const writeSources = new WeakMap<Registry, Set<WriteSource>>();

/**
 * The running writes of every module that counts on `registry`. A closed app's stay (with nothing
 * running they add 0): a registry outlives the apps that fed it only in tests.
 */
function writeSourcesOf(registry: Registry): Set<WriteSource> {
  let sources = writeSources.get(registry);
  if (sources === undefined) writeSources.set(registry, (sources = new Set()));
  return sources;
}

/**
 * The module's metrics in prom-client, on the app's registry or prom-client's default one (the one
 * `@willsoto/nestjs-prometheus` serves). prom-client is an optional peer: it is imported here, at
 * start-up, only when the `metrics` option is on. A metric the registry already holds under the
 * same name (a second tus module, an app restarted in one process) is reused, not registered twice.
 */
export async function createPrometheusMetrics(options: true | TusMetricsOptions): Promise<TusMetrics> {
  let prom: PromClient;
  try {
    prom = await import('prom-client');
  } catch (error) {
    throw new TusOptionsError([`metrics needs the optional peer prom-client: npm i prom-client (${(error as Error).message})`]);
  }
  const settings = options === true ? {} : options;
  const registry = (settings.registry as Registry | undefined) ?? prom.register;
  const prefix = settings.prefix ?? DEFAULT_METRICS_PREFIX;
  const make = metricFactory(prom, registry, prefix);

  const requests = make.counter('requests_total', 'tus requests answered, by method and status', ['method', 'status']);
  const active = make.gauge('requests_active', 'tus requests being handled now, by method', ['method']);
  const errors = make.counter('errors_total', 'tus requests that ended in an error, by error kind and status', ['kind', 'status']);
  const bytes = make.counter('bytes_received_total', 'bytes of request bodies handed to the storage', []);
  const created = make.counter('uploads_created_total', 'uploads created', []);
  const finished = make.counter('uploads_finished_total', 'uploads completed', []);
  const terminated = make.counter('uploads_terminated_total', 'uploads terminated (DELETE, TusStorageService.delete, expiry cleanup)', []);
  const expired = make.counter('uploads_expired_total', 'expired unfinished uploads removed', []);
  const takeovers = make.counter('takeovers_total', 'stalled requests stopped so that a newer request for the same upload could go on', []);
  const lockWait = make.histogram('lock_wait_seconds', 'time a request waited for an upload lock, by outcome (error: 423 or failure)', ['backend', 'outcome'], LOCK_BUCKETS);
  const storage = make.histogram(
    'storage_call_duration_seconds',
    'duration of storage backend calls, by backend, operation and outcome',
    ['backend', 'operation', 'outcome'],
    STORAGE_BUCKETS,
  );
  // Summed over every tus module on this registry (the gauges are registered once, by the first).
  const sources = writeSourcesOf(registry);
  const sum = (read: (source: WriteSource) => number) => [...sources].reduce((total, source) => total + read(source), 0);
  make.gauge('uploads_active', 'uploads receiving bytes now (in this process)', [], function (this: Gauge) {
    this.set(sum((source) => source.uploads()));
  });
  make.gauge('patches_active', 'request bodies being stored now (PATCH, creation-with-upload; in this process)', [], function (this: Gauge) {
    this.set(sum((source) => source.bodies()));
  });

  return {
    requestAnswered: (method, status) => requests.inc({ method, status: String(status) }),
    requestStarted: (method) => {
      active.inc({ method });
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        active.dec({ method });
      };
    },
    error: (kind, status) => errors.inc({ kind, status: status === undefined ? 'none' : String(status) }),
    bytesReceived: (count) => bytes.inc(count),
    uploadCreated: () => created.inc(),
    uploadFinished: () => finished.inc(),
    uploadTerminated: () => terminated.inc(),
    uploadsExpired: (count) => count > 0 && expired.inc(count),
    lockWaited: (backend, seconds, outcome) => lockWait.observe({ backend, outcome }, seconds),
    takeover: () => takeovers.inc(),
    storageCall: (backend, operation, seconds, outcome) => storage.observe({ backend, operation, outcome }, seconds),
    observeWrites: (source) => {
      sources.add(source);
    },
  };
}

function metricFactory(prom: PromClient, registry: Registry, prefix: string) {
  // Reused when present: prom-client refuses a second metric of one name in a registry.
  const existing = <M>(name: string, type: abstract new (...args: never[]) => unknown): M | undefined => {
    const metric = registry.getSingleMetric(name);
    if (metric === undefined) return undefined;
    if (!(metric instanceof type)) throw new TusOptionsError([`metrics: the registry already has a metric ${name} of another type`]);
    return metric as M;
  };
  return {
    counter: (name: string, help: string, labelNames: string[]): Counter =>
      existing<Counter>(prefix + name, prom.Counter) ?? new prom.Counter({ name: prefix + name, help, labelNames, registers: [registry] }),
    gauge: (name: string, help: string, labelNames: string[], collect?: (this: Gauge) => void): Gauge =>
      existing<Gauge>(prefix + name, prom.Gauge) ?? new prom.Gauge({ name: prefix + name, help, labelNames, registers: [registry], collect }),
    histogram: (name: string, help: string, labelNames: string[], buckets: number[]): Histogram =>
      existing<Histogram>(prefix + name, prom.Histogram) ??
      new prom.Histogram({ name: prefix + name, help, labelNames, buckets, registers: [registry] }),
  };
}
