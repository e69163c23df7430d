import { readFile } from 'node:fs/promises';
import type { SampleProcess } from './sample-process.js';
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

/** The peak resident memory of a process so far (the kernel's high-water mark, VmHWM), in MiB. */
export async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/**
 * What the peak resident memory of a streaming process may grow by besides the streaming path's
 * own bound. Dead Buffers wait for a garbage collection, which V8 starts for external memory once
 * it passes a soft limit 64 MiB above what the last collection left; when that comes differs
 * between Node versions (on 24 and 26 the sample's peak rose by up to 67 MiB from a 128 MiB to a
 * 1 GiB upload, and by 54 MiB more from 1 to 2 GiB, while the memory a collection leaves stayed
 * flat). A peak alone cannot tell a leak from that timing: {@link sampleMemory} gives both.
 */
export const GC_SLACK_MiB = 64;

/** A sample's memory between uploads: its peak so far, and what a full collection leaves (heap and Buffers), in MiB. */
export interface SampleMemory {
  peak: number;
  retained: number;
}

/** {@link SampleMemory} of a sample started with {@link MEMORY_PROBE_FLAGS}. */
export async function sampleMemory(sample: SampleProcess): Promise<SampleMemory> {
  const peak = await peakRssMiB(sample.process.pid!);
  const figures = await measureMemory(sample);
  return { peak, retained: (figures.heapUsed + figures.arrayBuffers) / 2 ** 20 };
}
