import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startNodeServer, type NodeServer } from './node-server.js';

/** The built sample app (`dist/apps/sample/main.js`), running as a real separate process; `url` is its tus collection URL, e.g. `http://127.0.0.1:41234/files`. */
export type SampleProcess = NodeServer;

const MAIN = resolve('dist/apps/sample/main.js');

/** Starts the sample on a free port with `env` added to this process's environment. */
export function startSample(env: Record<string, string>, node: string[] = []): Promise<SampleProcess> {
  return startNodeServer([...node, MAIN], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    listening: /nestjs-tus sample listening: (\S+)/,
    name: 'sample',
  });
}

/**
 * Two sample processes sharing one upload folder: a deployment of several workers on one disk.
 * `env` is added to both (e.g. `HTTP_ADAPTER`).
 */
export async function startSamplesSharingFolder(
  env: Record<string, string> = {},
): Promise<{ a: SampleProcess; b: SampleProcess; dir: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'nestjs-tus-shared-'));
  const [a, b] = await Promise.all([startSample({ ...env, UPLOAD_DIR: dir }), startSample({ ...env, UPLOAD_DIR: dir })]);
  return {
    a,
    b,
    dir,
    stop: async () => {
      await Promise.all([a.stop(), b.stop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
