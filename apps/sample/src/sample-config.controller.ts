import { Controller, Get } from '@nestjs/common';
import { readSampleConfig } from './sample.config.js';

/** What the page needs to know about the server: where the tus endpoint is. */
@Controller('api/config')
export class SampleConfigController {
  private readonly tusEndpoint = readSampleConfig().tusPath;

  @Get()
  get(): { tusEndpoint: string } {
    return { tusEndpoint: this.tusEndpoint };
  }
}
