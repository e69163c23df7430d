/** The sample app's settings, read once from the environment. */
export interface SampleConfig {
  port: number;
  host: string;
  tusPath: string;
  uploadDir: string;
  maxSize: number | undefined;
  expirationSeconds: number | null | undefined;
  /** `TUS_STORAGE=s3` stores uploads in S3, `TUS_STORAGE=azure` in Azure Blob Storage, instead of `uploadDir`. */
  storage: 'file' | 's3' | 'azure';
  s3: SampleS3Config;
  azure: SampleAzureConfig;
  /** `HTTP_ADAPTER=fastify` runs the sample on Nest's Fastify adapter instead of Express. */
  httpAdapter: 'express' | 'fastify';
  /**
   * `TUS_CORS_ORIGINS=https://a.example,https://b.example`: origins whose pages may upload (the
   * module's `cors` option); unset, no CORS headers are sent.
   */
  corsOrigins: string[] | undefined;
  /**
   * `TUS_METRICS=1`: the module's Prometheus metrics, served with the process's own at `/metrics`
   * (by @willsoto/nestjs-prometheus, on prom-client's default registry).
   */
  metrics: boolean;
  /**
   * `SAMPLE_DIGEST=0`: no SHA-256 of finished uploads (the listener reads each one back, which is
   * the sample's cost, not the module's: the benchmark turns it off). On by default.
   */
  digest: boolean;
}

/** Where the S3 backend stores, when `TUS_STORAGE=s3`: any S3-compatible server. */
export interface SampleS3Config {
  endpoint: string | undefined;
  bucket: string;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
  keyPrefix: string;
}

/** Where the Azure backend stores, when `TUS_STORAGE=azure`: Azure Blob Storage or Azurite. */
export interface SampleAzureConfig {
  /** `AZURE_STORAGE_CONNECTION_STRING`, e.g. Azurite's development account. */
  connectionString: string | undefined;
  /** `AZURE_CONTAINER`; it must exist. */
  container: string;
  keyPrefix: string;
}

export function readSampleConfig(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  return {
    port: integer(env, 'PORT') ?? 3000,
    host: env.HOST || '127.0.0.1',
    tusPath: env.TUS_PATH || '/files',
    uploadDir: env.UPLOAD_DIR || './uploads',
    maxSize: integer(env, 'TUS_MAX_SIZE'),
    expirationSeconds: env.TUS_EXPIRATION_SECONDS === 'null' ? null : integer(env, 'TUS_EXPIRATION_SECONDS'),
    storage: storageKind(env.TUS_STORAGE),
    httpAdapter: httpAdapterKind(env.HTTP_ADAPTER),
    corsOrigins: origins(env.TUS_CORS_ORIGINS),
    metrics: flag(env, 'TUS_METRICS'),
    digest: env.SAMPLE_DIGEST === undefined || env.SAMPLE_DIGEST === '' || flag(env, 'SAMPLE_DIGEST'),
    s3: {
      endpoint: env.S3_ENDPOINT || undefined,
      bucket: env.S3_BUCKET || 'tus-uploads',
      region: env.S3_REGION || 'us-east-1',
      accessKeyId: env.S3_ACCESS_KEY_ID || undefined,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY || undefined,
      // Path-style addressing is what S3-compatible servers (MinIO, Ceph RGW) expect.
      forcePathStyle: env.S3_FORCE_PATH_STYLE ? env.S3_FORCE_PATH_STYLE !== 'false' : env.S3_ENDPOINT !== undefined,
      keyPrefix: env.S3_KEY_PREFIX ?? '',
    },
    azure: {
      connectionString: env.AZURE_STORAGE_CONNECTION_STRING || undefined,
      container: env.AZURE_CONTAINER || 'tus-uploads',
      keyPrefix: env.AZURE_KEY_PREFIX ?? '',
    },
  };
}

function storageKind(value: string | undefined): 'file' | 's3' | 'azure' {
  if (value === undefined || value === '' || value === 'file') return 'file';
  if (value === 's3' || value === 'azure') return value;
  throw new Error(`TUS_STORAGE must be "file", "s3" or "azure", got "${value}"`);
}

function httpAdapterKind(value: string | undefined): 'express' | 'fastify' {
  if (value === undefined || value === '' || value === 'express') return 'express';
  if (value === 'fastify') return 'fastify';
  throw new Error(`HTTP_ADAPTER must be "express" or "fastify", got "${value}"`);
}

function origins(value: string | undefined): string[] | undefined {
  const list = (value ?? '').split(',').map((origin) => origin.trim()).filter((origin) => origin !== '');
  return list.length > 0 ? list : undefined;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = env[name];
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new Error(`${name} must be 1 or 0, got "${value}"`);
}

function integer(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return Number(value);
}
