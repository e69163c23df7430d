import { spawn } from 'node:child_process';

/** A PATCH running in a child process, which keeps sending while this process is blocked. */
export interface PatchInAnotherProcess {
  /** Resolves once the first part has been written. */
  started: Promise<void>;
  /** The status the server answered (0 when the request failed, `error` then says how). */
  answered: Promise<{ status: number; error?: string }>;
}

// The child: one PATCH whose Content-Length promises `parts` parts of `partBytes`, one part
// every `everyMs`; it prints `started` after the first and its answer (or error) as JSON at the end.
const CHILD = `
const http = require('node:http');
const [url, offset, partBytes, parts, everyMs] = JSON.parse(process.argv[1]);
const req = http.request(url, { method: 'PATCH', agent: false, headers: {
  'Tus-Resumable': '1.0.0', 'Content-Type': 'application/offset+octet-stream',
  'Upload-Offset': String(offset), 'Content-Length': String(partBytes * parts) } });
req.on('response', (res) => { res.resume(); res.on('end', () => console.log(JSON.stringify({ status: res.statusCode }))); });
req.on('error', (error) => console.log(JSON.stringify({ status: 0, error: error.code ?? error.message })));
let sent = 0;
const part = Buffer.alloc(partBytes, 7);
const next = () => {
  req.write(part);
  if (++sent === 1) console.log('started');
  if (sent === parts) req.end(); else setTimeout(next, everyMs);
};
next();
`;

/**
 * Sends a PATCH of `parts` × `partBytes` bytes (each byte 7) at `offset` from another Node process,
 * one part every `everyMs`: a client on the other side of the network, whose bytes go on arriving
 * while the server's event loop is blocked (a long GC pause, a slow synchronous call).
 */
export function patchFromAnotherProcess(url: string, offset: number, partBytes: number, parts: number, everyMs: number): PatchInAnotherProcess {
  const child = spawn(process.execPath, ['-e', CHILD, JSON.stringify([url, offset, partBytes, parts, everyMs])], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  let onStarted!: () => void;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    output += text;
    if (output.includes('started')) onStarted();
  });
  const answered = new Promise<{ status: number; error?: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      onStarted();
      const last = output.trim().split('\n').pop() ?? '';
      if (last.startsWith('{')) resolve(JSON.parse(last) as { status: number; error?: string });
      else reject(new Error(`the client process exited with ${code} and printed: ${output}`));
    });
  });
  return { started, answered };
}

/**
 * Blocks this process's event loop for `ms`: nothing here runs, sockets are not read, timers fall
 * behind. Blocked from the loop's check phase: the timers that fell behind then run before the
 * sockets are read again (blocked from a timer, the sockets would be read first). A block in an
 * I/O callback is tested in active-writes.spec.ts.
 */
export function blockEventLoop(ms: number): Promise<void> {
  return new Promise((resolve) =>
    setImmediate(() => {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      resolve();
    }),
  );
}
