// Loaded into a server with --import by bench/s3-memory.mjs: samples process.memoryUsage() and V8's
// heap spaces every 10 ms; peaks since `${MEMPROBE_OUT}.reset` appeared are written to MEMPROBE_OUT every 100 ms.
import { existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';
const OUT = process.env.MEMPROBE_OUT;
const keys = ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'];
let peak = {};
const reset = () => { const m = process.memoryUsage(); peak = { ...m, idle: m }; for (const s of v8.getHeapSpaceStatistics()) m['space:' + s.space_name] = s.space_size; };
reset();
let n = 0;
setInterval(() => {
  if (existsSync(OUT + '.reset')) { unlinkSync(OUT + '.reset'); reset(); }
  if (process.env.PROBE_GC && globalThis.gc) globalThis.gc();
  const m = process.memoryUsage(); for (const k of keys) peak[k] = Math.max(peak[k], m[k]);
  for (const s of v8.getHeapSpaceStatistics()) peak['space:' + s.space_name] = Math.max(peak['space:' + s.space_name] ?? 0, s.space_size);
  if (++n % 10 === 0) {
    writeFileSync(`${OUT}.tmp`, JSON.stringify(peak));
    renameSync(`${OUT}.tmp`, OUT);
  }
}, 10).unref();
