/**
 * A small seeded PRNG (mulberry32) for the HTTP fuzz: the same seed gives the same request
 * sequence per worker, so a failure printed with its seed can be replayed with `FUZZ_SEED`.
 */
export class FuzzRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    const buffer = Buffer.alloc(n + 3);
    for (let i = 0; i < n; i += 4) buffer.writeUInt32LE(Math.floor(this.next() * 4294967296), i);
    return buffer.subarray(0, n);
  }

  /** `n` characters drawn from `alphabet`. */
  text(n: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }

  /** A child generator, so that several workers draw independent but replayable sequences. */
  fork(salt: number): FuzzRandom {
    return new FuzzRandom(Math.imul(this.seed ^ 0x9e3779b9, salt + 1) ^ salt);
  }
}

/** The seed of this run: `FUZZ_SEED` to replay one, else a fresh one (printed by the suite). */
export function fuzzSeed(): number {
  const given = process.env.FUZZ_SEED;
  if (given !== undefined && given !== '') {
    if (!/^\d+$/.test(given)) throw new Error(`FUZZ_SEED must be an unsigned integer, got "${given}"`);
    return Number(given) >>> 0;
  }
  return Math.floor(Math.random() * 2 ** 32);
}
