import { MAX_PART_SIZE, MIN_PART_SIZE } from './part-size.js';

/** A byte range of a stored object; `end` is exclusive. */
export interface ObjectRange {
  key: string;
  start: number;
  end: number;
}

/** One part of the assembled object. */
export type ConcatPart =
  /** Copied inside S3 (`UploadPartCopy`): no byte passes through this process. */
  | { kind: 'copy'; source: ObjectRange }
  /** Downloaded and uploaded again, streamed: ranges too small to be parts of their own. */
  | { kind: 'stream'; sources: ObjectRange[]; size: number };

/**
 * Lays out the parts of a concatenation of `sources` (key and size), in order. Every part but the
 * last must hold at least `minPartSize` bytes, so a run of small sources is streamed as one part,
 * topped up with the head of the next source when that leaves the rest of it large enough to be
 * copied. Sources larger than `maxPartSize` are copied in several ranges.
 */
export function planConcatenation(
  sources: ReadonlyArray<{ key: string; size: number }>,
  minPartSize = MIN_PART_SIZE,
  maxPartSize = MAX_PART_SIZE,
): ConcatPart[] {
  const parts: ConcatPart[] = [];
  let group: ObjectRange[] = [];
  let groupSize = 0;
  const addToGroup = (range: ObjectRange) => {
    group.push(range);
    groupSize += range.end - range.start;
  };
  const flushGroup = () => {
    if (groupSize > 0) parts.push({ kind: 'stream', sources: group, size: groupSize });
    group = [];
    groupSize = 0;
  };
  const addCopies = (key: string, start: number, end: number) => {
    // Equal ranges: each stays at least half of maxPartSize, far above the minimum.
    const count = Math.ceil((end - start) / maxPartSize);
    for (let i = 0; i < count; i++) {
      const from = start + Math.floor(((end - start) * i) / count);
      const to = start + Math.floor(((end - start) * (i + 1)) / count);
      parts.push({ kind: 'copy', source: { key, start: from, end: to } });
    }
  };

  for (const { key, size } of sources) {
    if (size === 0) continue;
    let position = 0;
    if (groupSize > 0) {
      const missing = minPartSize - groupSize;
      if (size - missing >= minPartSize) {
        addToGroup({ key, start: 0, end: missing });
        flushGroup();
        position = missing;
      } else {
        addToGroup({ key, start: 0, end: size });
        if (groupSize >= minPartSize) flushGroup();
        continue;
      }
    }
    if (size - position >= minPartSize) addCopies(key, position, size);
    else addToGroup({ key, start: position, end: size });
  }
  flushGroup();
  return parts;
}
