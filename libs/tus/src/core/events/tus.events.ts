
/**
 * Lifecycle events, emitted through `@nestjs/event-emitter`. `pre-` events are awaited: a listener
 * that throws (an `HttpException` sets the status) rejects the request and nothing is created,
 * finished or deleted. Such a listener needs `@OnEvent(name, { suppressErrors: false })`, since
 * `@OnEvent` swallows listener errors by default.
 */
export const TusEvent = {
  /** Before an upload is created. Payload: {@link TusPreEvent}; `upload.offset` is 0. */
  PRE_CREATE: 'tus.pre-create',
  /** After an upload was created. Payload: {@link TusPostEvent}. */
  POST_CREATE: 'tus.post-create',
  /** Bytes were stored: at most once per upload per `postReceiveIntervalMs`, and once at the end of each request. */
  POST_RECEIVE: 'tus.post-receive',
  /** Before an upload completes (its last byte is stored but not yet recorded). Payload: {@link TusPreEvent}. */
  PRE_FINISH: 'tus.pre-finish',
  /** After an upload completed. Payload: {@link TusPostEvent}. */
  POST_FINISH: 'tus.post-finish',
  /** Before an upload is terminated (DELETE, `TusStorageService.delete`, expiry cleanup). */
  PRE_TERMINATE: 'tus.pre-terminate',
  /** After an upload was terminated. */
  POST_TERMINATE: 'tus.post-terminate',
} as const;

export type TusEventName = (typeof TusEvent)[keyof typeof TusEvent];
