import { describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { isAlive, isDeadHere, PROCESS_HOST } from './process-identity.js';

const run = promisify(execFile);

/** The state letter of `pid` in procfs (R, S, Z, ...), or null once it is gone. */
async function stateOf(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => null);
  return stat === null ? null : stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

describe('process identity', () => {
  it('this process is alive, a pid that ran and was reaped is not', async () => {
    expect(isAlive(process.pid)).toBe(true);
    const { stdout } = await run('sh', ['-c', 'echo $$']);
    expect(isAlive(Number(stdout.trim()))).toBe(false);
  });

  it('a killed process not yet reaped by its parent (a zombie) is dead, and its locks are a dead holder\'s', async () => {
    // A parent that forks a child and never reaps it: killed, the child stays a zombie, as under a
    // container's PID 1 that is not an init. (SIGCHLD set to its default: a parent that inherited
    // it ignored has its children reaped by the kernel, and no zombie ever shows.)
    const parent = spawn('perl', ['-e', '$SIG{CHLD} = "DEFAULT"; $| = 1; my $pid = fork(); if ($pid == 0) { sleep 60; exit 0 } print "$pid\n"; sleep 60'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const [line] = (await new Promise<string>((resolve) => parent.stdout.once('data', (data: Buffer) => resolve(data.toString())))).split('\n');
      const child = Number(line);
      expect(isAlive(child)).toBe(true);
      process.kill(child, 'SIGKILL');
      for (let i = 0; i < 100 && (await stateOf(child)) !== 'Z'; i++) await sleep(20);
      expect(await stateOf(child)).toBe('Z');
      // Signal 0 still reaches a zombie: the check must read its state.
      expect(() => process.kill(child, 0)).not.toThrow();
      expect(isAlive(child)).toBe(false);
      expect(isDeadHere({ host: PROCESS_HOST, pid: child })).toBe(true);
      expect(isDeadHere({ host: `${PROCESS_HOST}-elsewhere`, pid: child })).toBe(false);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
