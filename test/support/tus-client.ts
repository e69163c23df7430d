import { Upload, type UploadOptions } from 'tus-js-client';

/** Runs a tus-js-client upload to completion; resolves with its URL, rejects with its error. */
export function runUpload(input: Buffer, options: UploadOptions): Promise<{ url: string; upload: Upload }> {
  return new Promise((resolve, reject) => {
    const upload = new Upload(input, {
      retryDelays: [],
      storeFingerprintForResuming: false,
      ...options,
      onSuccess: () => resolve({ url: upload.url!, upload }),
      onError: reject,
    });
    upload.start();
  });
}
