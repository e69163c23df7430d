import { readFile } from 'node:fs/promises';
import type { SampleProcess } from '../servers/sample-process.js';
import { eventually } from '../eventually.js';

// Loaded into the sample with --import: on SIGWINCH (a signal Nest's shutdown hooks leave alone),
// collect garbage and print the memory figures on stdout, where the test reads them.
const PROBE = "process.on('SIGWINCH',()=>{for(let i=0;i<3;i++)globalThis.gc();process.stdout.write('fuzz-memory '+JSON.stringify(process.memoryUsage())+'\\n')})";

/** Node flags that make a sample process answer {@link measureMemory}. */
export const MEMORY_PROBE_FLAGS = ['--expose-gc', '--import', `data:text/javascript,${encodeURIComponent(PROBE)}`];

/** A process's memory after a full garbage collection, in bytes. */
export interface MemoryFigures {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  /** Resident set as the kernel reports it (/proc/<pid>/status VmRSS). */
  vmRss: number;
}

/** Asks the sample (started with {@link MEMORY_PROBE_FLAGS}) to collect garbage and report its memory. */
export async function measureMemory(sample: SampleProcess): Promise<MemoryFigures> {
  const reports = () => sample.output().split('fuzz-memory ');
  const before = reports().length;
  sample.process.kill('SIGWINCH');
  // Until a new report has arrived whole (its line ended).
  await eventually(async () => reports().length > before && reports().pop()!.includes('\n'), 10_000, 'the sample reporting its memory');
  const line = reports().pop()!.split('\n')[0]!;
  const figures = JSON.parse(line) as Omit<MemoryFigures, 'vmRss'>;
  const status = await readFile(`/proc/${sample.process.pid}/status`, 'utf8');
  return { ...figures, vmRss: Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024 };
}
