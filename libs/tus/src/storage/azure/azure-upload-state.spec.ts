import { describe, expect, it } from '@jest/globals';
import type { UploadInfo } from '../../protocol/upload-info.js';
import { decodeAzureUpload, encodeAzureUpload } from './azure-upload-state.js';

const upload: UploadInfo = {
  id: 'abc',
  offset: 15,
  length: 20,
  metadata: Object.assign(Object.create(null), { filename: 'a.bin' }),
  metadataHeader: 'filename YS5iaW4=',
  createdAt: new Date('2030-01-01T00:00:00Z'),
  expiresAt: null,
  completedAt: null,
  concat: null,
  storage: { type: 'azure', container: 'c', blob: 'abc' },
};
const azure = { blockSize: 10, blocks: [{ id: 'AAAAAAAAAAAAAAAB', size: 10 }, { id: 'AAAAAAAAAAAAAAAC', size: 5 }], stagedAt: '2030-01-01T00:00:01.000Z' };

describe('the .info codec', () => {
  it('round-trips the upload and its blocks; the write token stays out', () => {
    const decoded = decodeAzureUpload(encodeAzureUpload(upload, azure, 'token'), 'abc.info');
    expect(decoded.upload).toEqual(upload);
    expect(decoded.azure).toEqual(azure);
  });

  it('refuses a state whose blocks do not add up to its offset', () => {
    const text = encodeAzureUpload({ ...upload, offset: 16 }, azure);
    expect(() => decodeAzureUpload(text, 'abc.info')).toThrow(/blocks hold 15 bytes, offset is 16/);
  });

  it('takes a completed upload, whose blocks are committed and no longer listed', () => {
    const text = encodeAzureUpload({ ...upload, offset: 20, completedAt: new Date() }, { ...azure, blocks: [] });
    expect(decodeAzureUpload(text, 'abc.info').upload.offset).toBe(20);
  });
});
