import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Param } from '@nestjs/common';
import { TusStorageService } from 'nestjs-tus';
import { createUpload, send, TUS, uploadIdOf } from '../support/http/requests.js';
import { PLATFORMS, startTusApp, type RunningApp } from '../support/apps/tus-app.js';

/** An app's own routes over TusStorageService: its errors meet Nest's default exception handling. */
@Controller('my-uploads')
class MyUploadsController {
  constructor(private readonly uploads: TusStorageService) {}

  @Get(':id')
  async info(@Param('id') id: string) {
    const { length, offset } = await this.uploads.get(id);
    return { length, offset };
  }

  @Get(':id/content')
  async content(@Param('id') id: string) {
    await this.uploads.createReadStream(id);
    return 'unreachable for an unfinished upload';
  }
}

describe.each(PLATFORMS)('errors of TusStorageService in an app controller on %s', (platform) => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startTusApp({ isGlobal: true }, { platform, imports: [{ module: class MyUploadsModule {}, controllers: [MyUploadsController] }] });
  });
  afterAll(() => running.close());

  it('an unknown id is 404 with the reason, not a 500', async () => {
    const response = await send('GET', `${running.origin}/my-uploads/unknown`);
    expect(response.status).toBe(404);
    expect(JSON.parse(response.text)).toEqual({ statusCode: 404, message: 'Upload not found' });
  });

  it('a known id answers, and an unfinished upload read as content is 400', async () => {
    const id = uploadIdOf(await createUpload(running.url, { 'Upload-Length': 3 }));
    const info = await send('GET', `${running.origin}/my-uploads/${id}`);
    expect(info.status).toBe(200);
    expect(JSON.parse(info.text)).toEqual({ length: 3, offset: 0 });
    const content = await send('GET', `${running.origin}/my-uploads/${id}/content`);
    expect(content.status).toBe(400);
  });

  it("the module's own routes still answer plain text with the tus headers", async () => {
    const response = await send('HEAD', `${running.url}/unknown`, { headers: TUS });
    expect(response.status).toBe(404);
    expect(response.headers['tus-resumable']).toBe('1.0.0');
    const download = await send('GET', `${running.url}/unknown`);
    expect(download.status).toBe(404);
    expect(download.headers['content-type']).toMatch(/^text\/plain/);
    expect(download.text).toBe('Upload not found\n');
  });
});
