import { Readable } from 'node:stream';
import { PayloadTooLargeError } from '../../errors/tus.errors.js';
import { planConcatenation, type ObjectRange } from './concat-plan.js';
import { MAX_PART_COUNT, MIN_PART_SIZE } from './part-size.js';
import type { S3Objects } from './s3-objects.js';

/**
 * Builds `key` from ranges of completed uploads: copied inside S3 (`UploadPartCopy`, all at once)
 * where a range can be a part of its own, streamed through this process where it is too small. A
 * concatenation under one part is a single streamed PutObject.
 */
export async function assembleConcatenation(
  objects: S3Objects,
  key: string,
  sources: Array<{ key: string; size: number }>,
  length: number,
): Promise<void> {
  if (length < MIN_PART_SIZE) {
    const ranges = sources.map((source) => ({ key: source.key, start: 0, end: source.size }));
    await objects.put(key, Readable.from(readRanges(objects, ranges)), { length });
    return;
  }
  const plan = planConcatenation(sources);
  if (plan.length > MAX_PART_COUNT) throw new PayloadTooLargeError(`The concatenation would need more than ${MAX_PART_COUNT} parts`);
  const uploadId = await objects.createMultipartUpload(key);
  try {
    const etags = await Promise.all(
      plan.map((part, index) =>
        part.kind === 'copy'
          ? objects.uploadPartCopy(key, uploadId, index + 1, part.source)
          : objects.uploadPart(key, uploadId, index + 1, Readable.from(readRanges(objects, part.sources)), part.size),
      ),
    );
    const parts = etags.map((etag, index) => ({ partNumber: index + 1, etag, size: 0 }));
    await objects.completeMultipartUpload(key, uploadId, parts);
  } catch (error) {
    await objects.abortMultipartUpload(key, uploadId).catch(() => undefined);
    throw error;
  }
}

/** The bytes of `ranges`, in order, streamed. */
async function* readRanges(objects: S3Objects, ranges: ObjectRange[]): AsyncGenerator<Uint8Array> {
  for (const range of ranges) {
    if (range.end > range.start) yield* await objects.getStream(range.key, range.start, range.end - 1);
  }
}
