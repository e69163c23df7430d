import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` until it holds, for effects that come after the step that caused them (a server
 * applying a cut connection, a process starting, an event arriving); generous, since it waits
 * rather than times anything. `what` names the awaited condition in the error when it never holds.
 */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(25);
  }
}
