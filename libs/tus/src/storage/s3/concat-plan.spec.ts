import { describe, expect, it } from '@jest/globals';
import { planConcatenation, type ConcatPart } from './concat-plan.js';

const MIN = 5;
const MAX = 20;

function sizeOf(part: ConcatPart): number {
  return part.kind === 'copy' ? part.source.end - part.source.start : part.size;
}

/** The bytes the plan reads, in order, as "key:start-end" strings. */
function flatten(parts: ConcatPart[]): string[] {
  return parts.flatMap((part) => (part.kind === 'copy' ? [part.source] : part.sources)).map((r) => `${r.key}:${r.start}-${r.end}`);
}

function expectValid(sources: Array<{ key: string; size: number }>, parts: ConcatPart[]): void {
  parts.slice(0, -1).forEach((part) => expect(sizeOf(part)).toBeGreaterThanOrEqual(MIN));
  parts.forEach((part) => expect(sizeOf(part)).toBeLessThanOrEqual(MAX));
  parts.filter((part) => part.kind === 'copy').forEach((part) => expect(sizeOf(part)).toBeGreaterThanOrEqual(MIN));
  // Every byte of every source, once, in order.
  const read: string[] = [];
  for (const range of parts.flatMap((part) => (part.kind === 'copy' ? [part.source] : part.sources))) {
    for (let i = range.start; i < range.end; i++) read.push(`${range.key}@${i}`);
  }
  expect(read).toEqual(sources.flatMap(({ key, size }) => Array.from({ length: size }, (_, i) => `${key}@${i}`)));
}

describe('planConcatenation', () => {
  it('copies every source that is large enough, streams nothing', () => {
    const sources = [
      { key: 'a', size: 5 },
      { key: 'b', size: 12 },
    ];
    const parts = planConcatenation(sources, MIN, MAX);
    expect(parts.every((part) => part.kind === 'copy')).toBe(true);
    expect(flatten(parts)).toEqual(['a:0-5', 'b:0-12']);
    expectValid(sources, parts);
  });

  it('splits a source larger than the maximum part into equal copies', () => {
    const sources = [{ key: 'a', size: 45 }];
    const parts = planConcatenation(sources, MIN, MAX);
    expect(flatten(parts)).toEqual(['a:0-15', 'a:15-30', 'a:30-45']);
    expectValid(sources, parts);
  });

  it('tops a small source up with the head of the next one and copies the rest', () => {
    const sources = [
      { key: 'a', size: 2 },
      { key: 'b', size: 12 },
    ];
    const parts = planConcatenation(sources, MIN, MAX);
    expect(parts.map((part) => part.kind)).toEqual(['stream', 'copy']);
    expect(flatten(parts)).toEqual(['a:0-2', 'b:0-3', 'b:3-12']);
    expectValid(sources, parts);
  });

  it('streams the whole next source when the rest of it would be too small to copy', () => {
    const sources = [
      { key: 'a', size: 2 },
      { key: 'b', size: 7 },
      { key: 'c', size: 6 },
    ];
    const parts = planConcatenation(sources, MIN, MAX);
    expect(flatten(parts)).toEqual(['a:0-2', 'b:0-7', 'c:0-6']);
    expect(parts.map((part) => part.kind)).toEqual(['stream', 'copy']);
    expectValid(sources, parts);
  });

  it('groups runs of small sources, lets the last part be small, skips empty sources', () => {
    const sources = [
      { key: 'a', size: 1 },
      { key: 'e', size: 0 },
      { key: 'b', size: 2 },
      { key: 'c', size: 3 },
      { key: 'd', size: 8 },
      { key: 'f', size: 1 },
    ];
    const parts = planConcatenation(sources, MIN, MAX);
    expect(parts.map((part) => part.kind)).toEqual(['stream', 'copy', 'stream']);
    expectValid(sources, parts);
  });

  it('handles a repeated source and all-small inputs', () => {
    const sources = [
      { key: 'a', size: 3 },
      { key: 'a', size: 3 },
      { key: 'a', size: 3 },
    ];
    const parts = planConcatenation(sources, MIN, MAX);
    expect(parts.every((part) => part.kind === 'stream')).toBe(true);
    expectValid(sources, parts);
    expect(planConcatenation([], MIN, MAX)).toEqual([]);
  });

  it('keeps every part within the limits for many random layouts', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 300; round++) {
      const sources = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) => ({ key: `k${i}`, size: Math.floor(random() * 50) }));
      expectValid(sources, planConcatenation(sources, MIN, MAX));
    }
  });
});
