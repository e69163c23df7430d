import { OffsetMismatchError, PayloadTooLargeError } from '../../errors/tus.errors.js';
import type { UploadInfo } from '../../protocol/upload-info.js';
import { keepsBytesAfter } from '../chunk-outcome.js';
import { pipeChunk } from '../chunk-pump.js';
import type { ChunkSource, UploadChanges } from '../tus-storage-backend.interface.js';
import { resizedForLength } from './deferred-length.js';
import { PartSink } from '../part-sink.js';
import { ProgressRecorder } from '../progress-recorder.js';
import { completeUpload, completeWhole, rollBack, type S3UploadAccess } from './s3-completion.js';
import { PENDING_OBJECT_TAG } from './s3-keys.js';
import { isNotFound, type S3Objects } from './s3-objects.js';
import { type S3Part, type S3UploadState, settledState, withUntrusted } from './s3-upload-state.js';

/** What a chunk write uses of the S3 backend. */
export interface S3ChunkWriteAccess extends S3UploadAccess {
  maxParts: number;
  maxConcurrentPartUploads: number;
}

const EMPTY = new Uint8Array(0);

const bytesIn = (parts: readonly S3Part[]) => parts.reduce((sum, part) => sum + part.size, 0);

/**
 * Appends a chunk to an upload: whole parts into its multipart upload (started by the first whole
 * part), the bytes short of a part into a new `.pending` object, then `.info` conditionally on the
 * version read; an upload whose last byte arrived is completed. What the request does not keep is
 * given back: its multipart upload aborted, its pending object deleted, its recorded parts rolled back.
 */
export async function writeS3Chunk(access: S3ChunkWriteAccess, upload: UploadInfo, chunk: ChunkSource, changes: UploadChanges): Promise<UploadInfo> {
  const { objects, keys, info } = access;
  const snapshot = await info.snapshotOf(upload);
  const changed = { ...upload, ...changes };
  // Built on without any `writing` mark: this request's records set their own, its end none.
  const state = settledState(resizedForLength(snapshot.s3, upload, changed.length, access.maxParts));
  const key = keys.data(upload.id);
  const prefill = state.pending === null ? EMPTY : await readPending(objects, state.pending.key);

  let uploadId = state.uploadId;
  let created: Promise<string> | undefined;
  const ensureUpload = async () => uploadId ?? (uploadId = await (created ??= objects.createMultipartUpload(key)));
  // The version of .info this request builds on: the one read, then each record of its progress.
  let etag = snapshot.etag;
  // Whether a record names the multipart upload this request started.
  let named = false;
  // Progress is recorded part by part while the body streams, so that a crash of the process
  // loses only the parts in flight and the buffer; a chunk that must be verified whole
  // (Upload-Checksum) records nothing before its end.
  const recorder = chunk.keepOnInterrupt
    ? new ProgressRecorder(
        state.parts.length + 1,
        async (parts) => {
          // `writing`: should the process die, S3 may hold up to that many more parts of this
          // request, which a recovery adds (see recoverS3Parts). Free: these records are written anyway.
          const s3: S3UploadState = {
            ...state,
            uploadId: await ensureUpload(),
            parts: [...state.parts, ...parts],
            pending: null,
            writing: { partsInFlight: access.maxConcurrentPartUploads },
          };
          const offset = bytesIn(s3.parts);
          // The part that fills the upload is recorded with its completion, at the request's
          // end: a record saying "every byte is here" while the request still runs would make a
          // HEAD meanwhile try to finish the upload itself.
          if (changed.length !== null && offset >= changed.length) return false;
          try {
            const saved = await info.save({ ...changed, offset, completedAt: null }, s3, { ifMatch: etag });
            etag = info.known(saved)!.etag;
            named = true;
            return true;
          } catch (error) {
            // A record whose answer never came may have been applied: the multipart upload it
            // names must not be aborted by this request, whatever happens next.
            if (!(error instanceof OffsetMismatchError)) named = true;
            throw error;
          }
        },
        // Only another writer winning the upload stops the request; S3 failing a record (a 5xx,
        // a timeout) stops the records, and the request's own end saves what it stored.
        (error) => error instanceof OffsetMismatchError,
      )
    : null;
  // The multipart upload this request started is aborted when nothing of the request is kept
  // (and no record names it).
  const abandon = async () => {
    const startedId = await created?.catch(() => undefined);
    if (startedId !== undefined && !named) await objects.abortMultipartUpload(key, startedId).catch(() => undefined);
  };

  // A chunk verified only at its end marks, before its first part goes into the upload's multipart
  // upload, every part number it can reach as untrusted: killed mid-body, its parts stay in S3 and
  // must never be recovered. One more `.info` write, for such chunks only (none for a chunk under a
  // part, none for a multipart upload this request starts: no state names that one until it commits).
  let untrustedMark: Promise<void> | undefined;
  const markUntrusted = async () => {
    const reach = changed.length === null ? access.maxParts : state.parts.length + Math.ceil((changed.length - bytesIn(state.parts)) / state.partSize);
    const marked = withUntrusted(settledState(snapshot.s3), Math.max(state.untrustedThrough ?? 0, Math.min(reach, access.maxParts)));
    etag = info.known(await info.save(upload, marked, { ifMatch: etag }))!.etag;
  };

  const sink = new PartSink({
    partSize: state.partSize,
    firstPartNumber: state.parts.length + 1,
    lastPartNumber: access.maxParts,
    maxInFlight: access.maxConcurrentPartUploads,
    prefill,
    uploadPart: async (partNumber, body) => {
      if (recorder === null && state.uploadId !== null) await (untrustedMark ??= markUntrusted());
      return objects.uploadPart(key, await ensureUpload(), partNumber, body, body.length);
    },
    partStored: recorder === null ? undefined : (part) => recorder.stored(part),
  });
  let failure: unknown;
  try {
    failure = await pipeChunk(chunk, sink);
  } catch (error) {
    failure = error;
  }
  // What arrived is stored by this request's own end: the records stop here.
  await recorder?.close();
  const stored = await sink.settle();
  const recorded = recorder !== null && recorder.recordedParts.length > 0;
  if (stored.error !== undefined) {
    // A part not stored, or a record lost to another writer (409): the parts recorded so far
    // stay (they are stored; the client reads the offset again), nothing else of the request.
    await abandon();
    if (recorded && state.pending !== null) await objects.deleteQuietly(state.pending.key);
    throw failure ?? stored.error;
  }
  // Bytes are kept only when every part of the request is stored: otherwise the offset stays.
  let keep = failure === undefined || keepsBytesAfter(failure, chunk);
  if (failure === undefined) {
    try {
      await chunk.verify(upload.offset + sink.received);
    } catch (error) {
      // A throw from verify() (checksum mismatch, vetoed finish) always discards the chunk.
      failure = error;
      keep = false;
    }
  }
  if (!keep || (failure !== undefined && sink.received === 0)) {
    // The refused parts stay in the multipart upload (S3 deletes no single part): their numbers are
    // marked untrusted, so that no crash recovery counts them. A verified-whole chunk marked them first.
    const refused = recorder !== null && stored.parts.length > 0 && snapshot.s3.uploadId !== null;
    const before = settledState(snapshot.s3);
    const through = Math.max(before.untrustedThrough ?? 0, ...(refused ? stored.parts.map((part) => part.partNumber) : []));
    if ((recorded || refused) && (await rollBack(info, upload, withUntrusted(before, through), etag))) named = false;
    await abandon();
    throw failure;
  }

  const offset = upload.offset + sink.received;
  const completing = changed.length !== null && offset === changed.length;
  const parts = [...state.parts, ...stored.parts];
  let pending: S3UploadState['pending'] = null;
  let committed = false;
  try {
    // The whole upload in this one request, short of a part, onto an empty state: one PutObject.
    const whole = completing && failure === undefined && uploadId === null && !created && state.parts.length === 0 && state.pending === null;
    if (whole) {
      const done = await completeWhole(access, { ...changed, offset }, state, stored.tail, { etag, created: snapshot.created });
      if (done !== null) return done;
    }
    if (completing && (uploadId !== null || created)) {
      if (stored.tail.length > 0) parts.push(await uploadLastPart(access, key, await ensureUpload(), parts.length + 1, stored.tail));
    } else if (stored.tail.length > 0) {
      // Also for a completing upload without parts: its bytes must be durable before .info says so.
      pending = { key: keys.newPending(upload.id), size: stored.tail.length };
      await objects.put(pending.key, stored.tail, { length: stored.tail.length, tagging: PENDING_OBJECT_TAG });
    }
    // Every part of this request is listed: what stays untrusted is what was before it.
    const s3 = withUntrusted({ ...state, uploadId: created ? await created : uploadId, parts, pending }, state.untrustedThrough ?? 0);
    const next = await info.save({ ...changed, offset, completedAt: null }, s3, { ifMatch: etag });
    committed = true;
    if (state.pending !== null) await objects.deleteQuietly(state.pending.key);
    const result = completing ? await completeUpload(access, next, stored.tail) : next;
    if (failure !== undefined) throw failure;
    return result;
  } catch (error) {
    if (!committed) {
      if (pending !== null) await objects.deleteQuietly(pending.key);
      await abandon();
    }
    throw error;
  }
}

async function uploadLastPart(access: S3ChunkWriteAccess, key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<S3Part> {
  if (partNumber > access.maxParts) throw new PayloadTooLargeError(`The upload would need more than ${access.maxParts} parts`);
  const etag = await access.objects.uploadPart(key, uploadId, partNumber, body, body.length);
  return { partNumber, etag, size: body.length };
}

async function readPending(objects: S3Objects, key: string): Promise<Uint8Array> {
  try {
    return await objects.getBytes(key);
  } catch (error) {
    // A request that read the same state won and consumed these bytes.
    if (isNotFound(error)) throw new OffsetMismatchError('The upload was changed by another request; read its offset again');
    throw error;
  }
}
