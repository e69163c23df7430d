import type { IncomingMessage } from 'node:http';
import type { UploadInfo } from '../protocol/upload-info.js';

// The events' payloads as the app's listeners receive them. The core passes on the request a
// front door handed it without looking inside; every front door hands it the Node request.

/** Payload of every `post-` event. */
export interface TusPostEvent {
  upload: UploadInfo;
}

/** Payload of every `pre-` event: the upload as it will be, and the request (null when the app itself acts). */
export interface TusPreEvent extends TusPostEvent {
  request: IncomingMessage | null;
}
