import { Controller, Get, type MessageEvent, Sse } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { UploadRegistry, type CompletedUpload } from './upload-registry.service.js';

/** The page's JSON API: the completed uploads, and their changes as server-sent events. */
@Controller('api/uploads')
export class UploadsController {
  constructor(private readonly registry: UploadRegistry) {}

  /** Completed uploads, newest first. */
  @Get()
  list(): CompletedUpload[] {
    return this.registry.list();
  }

  /** Live changes: an `added` event once an upload is complete and hashed, `removed` once deleted. */
  @Sse('events')
  events(): Observable<MessageEvent> {
    return this.registry.changes.pipe(map(({ type, upload }) => ({ type, data: upload })));
  }
}
