import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** A Node server of the tests' own (the sample app, an app built against the packed library), running as a real separate process. */
export interface NodeServer {
  /** The URL it printed once listening. */
  url: string;
  process: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs `node <args>` and resolves once its output matches `listening`, whose first group is its URL;
 * rejects if it exits first or prints no such line within 60 s.
 */
export async function startNodeServer(
  args: string[],
  options: { listening: RegExp; name: string; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<NodeServer> {
  const child = spawn(process.execPath, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    // A start takes 1-2 s; on a loaded machine (a second test run, npm installs) a fresh Node process
    // printed nothing for 20 s (seen: a fresh clone's browser suite, every sample start).
    const timer = setTimeout(() => reject(new Error(`${options.name} did not start:\n${output}`)), 60_000);
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = options.listening.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${options.name} exited with ${code}:\n${output}`)));
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
