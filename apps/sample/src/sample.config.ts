/** The sample app's settings, read once from the environment. */
export interface SampleConfig {
  port: number;
  host: string;
  tusPath: string;
  uploadDir: string;
  maxSize: number | undefined;
  expirationSeconds: number | null | undefined;
}

export function readSampleConfig(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  return {
    port: integer(env, 'PORT') ?? 3000,
    host: env.HOST || '127.0.0.1',
    tusPath: env.TUS_PATH || '/files',
    uploadDir: env.UPLOAD_DIR || './uploads',
    maxSize: integer(env, 'TUS_MAX_SIZE'),
    expirationSeconds: env.TUS_EXPIRATION_SECONDS === 'null' ? null : integer(env, 'TUS_EXPIRATION_SECONDS'),
  };
}

function integer(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return Number(value);
}
