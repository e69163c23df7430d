import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Where this process's pid means something: the host name and the pid namespace. Containers that
 * share a host name (host networking) but not a pid namespace then count as different hosts, and
 * judge each other's locks by staleness alone, never by a pid they cannot see (which would read as
 * dead, and have a live writer's lock taken and its file cut).
 */
export const PROCESS_HOST = `${hostname()}${pidNamespace()}`;

function pidNamespace(): string {
  try {
    return `/${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return ''; // no procfs (not Linux): the host name alone
  }
}

/** Whether a lock holder is a process of this host (and pid namespace) that no longer runs. */
export function isDeadHere(holder: { host?: unknown; pid?: unknown }): boolean {
  return holder.host === PROCESS_HOST && typeof holder.pid === 'number' && !isAlive(holder.pid);
}

/**
 * The holder a lock's content names, or nothing when it names none: a holder that died between
 * creating and writing its lock leaves it empty or cut short, and staleness alone decides.
 */
export function parseHolder<Holder extends object>(content: string): Partial<Holder> {
  try {
    return JSON.parse(content) as Holder;
  } catch {
    return {};
  }
}

/**
 * Whether `pid` runs. A process that was killed but not yet reaped (a zombie: common in containers
 * whose PID 1 is not an init) still answers signal 0, yet holds nothing any more: it is dead.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** A zombie (`Z`) or dead (`X`) process in procfs; false where there is no procfs. */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return false;
  }
  // "pid (comm) state ...": the command may hold spaces and parentheses; the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}
