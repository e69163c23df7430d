// Starting the servers under test as child processes, and watching their memory.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const READY = /listening: (https?:\/\/\S+)/;
const live = new Set();

/** Stops every server still running (on exit, on Ctrl-C). */
export function stopAll() {
  return Promise.all([...live].map((server) => server.stop()));
}

/**
 * A server under test. `spec` is { key, label, script, env }; its uploads go to
 * `dir`, which is emptied (not removed) between scenarios.
 */
export class ServerProcess {
  constructor(spec, dir) {
    this.spec = spec;
    this.dir = dir;
    this.child = undefined;
    this.url = undefined;
    this.tail = [];
  }

  get pid() {
    return this.child?.pid;
  }

  async start() {
    await mkdir(this.dir, { recursive: true });
    const child = spawn(process.execPath, [this.spec.script], {
      env: { ...process.env, NO_COLOR: '1', PORT: '0', HOST: '127.0.0.1', TUS_PATH: '/files', UPLOAD_DIR: this.dir, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(this);
    try {
      this.url = await this.ready(child);
    } catch (error) {
      await this.stop();
      throw error;
    }
    // Lines after the ready line (the sample logs each finished upload) are kept in `tail` only.
    return this;
  }

  ready(child) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(this.failure('did not print its URL within 30 s')), 30_000);
      const onLine = (chunk) => {
        for (const line of chunk.toString().replace(/\x1b\[[0-9;]*m/g, '').split('\n')) {
          if (!line) continue;
          this.tail.push(line);
          if (this.tail.length > 20) this.tail.shift();
          const match = READY.exec(line);
          if (match && !this.url) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        }
      };
      child.stdout.on('data', onLine);
      child.stderr.on('data', onLine);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(this.failure(`exited (${signal ?? code}) before it was ready`));
      });
    });
  }

  failure(message) {
    return new Error(`${this.spec.label}: ${message}\n  ${this.tail.join('\n  ')}`);
  }

  async stop() {
    live.delete(this);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.child = undefined;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  }

  /** Removes every file the server wrote, keeping the directory itself. */
  async clean() {
    const entries = await readdir(this.dir).catch(() => []);
    await Promise.all(entries.map((name) => rm(join(this.dir, name), { recursive: true, force: true })));
  }
}

/** kB figures from /proc/<pid>/status. */
export function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/**
 * Samples the peak resident memory of `pid` while `work` runs: resets the kernel's
 * high-water mark first (clear_refs 5) when allowed, polls VmRSS every 20 ms, and
 * returns { idle, peak } in bytes, peak being the larger of VmHWM and the polled maximum.
 */
export async function peakMemoryDuring(pid, work) {
  const idle = memory(pid).rss;
  let hwmReset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    hwmReset = false;
  }
  let polled = idle;
  let running = true;
  const poller = (async () => {
    while (running) {
      try {
        polled = Math.max(polled, memory(pid).rss);
      } catch {
        return;
      }
      await sleep(20);
    }
  })();
  try {
    await work();
  } finally {
    running = false;
    await poller;
  }
  const { rss, hwm } = memory(pid);
  const peak = Math.max(polled, rss, hwmReset ? hwm : 0);
  return { idle: idle * 1024, peak: peak * 1024 };
}
