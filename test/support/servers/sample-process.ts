import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The built sample app (`dist/apps/sample/main.js`), running as a real separate process. */
export interface SampleProcess {
  /** The tus collection URL it printed, e.g. `http://127.0.0.1:41234/files`. */
  url: string;
  process: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

const MAIN = resolve('dist/apps/sample/main.js');

/** Starts the sample on a free port with `env` added to this process's environment. */
export async function startSample(env: Record<string, string>, node: string[] = []): Promise<SampleProcess> {
  const child = spawn(process.execPath, [...node, MAIN], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    // A start takes 1-2 s; on a loaded machine (a second test run, npm installs) a fresh Node process
    // printed nothing for 20 s (seen: a fresh clone's browser suite, every sample start).
    const timer = setTimeout(() => reject(new Error(`sample did not start:\n${output}`)), 60_000);
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = /nestjs-tus sample listening: (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`sample exited with ${code}:\n${output}`)));
  });
  return {
    url,
    process: child,
    output: () => output,
    stop: async () => {
      // Exited already (a test killed it: then only signalCode is set, and 'exit' will not come again).
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
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
