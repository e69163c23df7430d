import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { TusEvent, type TusPostEvent } from 'nestjs-tus';

/** Logs every completed upload: the way an app hooks into the module's lifecycle events. */
@Injectable()
export class UploadLogListener {
  private readonly logger = new Logger('Uploads');

  @OnEvent(TusEvent.POST_FINISH)
  onFinish({ upload }: TusPostEvent): void {
    const name = upload.metadata.filename ?? '(no filename)';
    this.logger.log(`upload ${upload.id} finished: ${name}, ${upload.length} bytes`);
  }
}
