import type { ClientRequest } from 'node:http';
import { DefaultHttpStack, Upload, type HttpRequest, type UploadOptions } from 'tus-js-client';

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

/**
 * tus-js-client's Node HTTP stack, except that a response cut short after its head fails the request.
 * The stock stack waits for the response's 'end' and listens for errors on the request only: when the
 * connection is cut inside a response body (a 409's reason, say), neither comes, and the upload waits
 * for ever (seen in the network-fault tests: no connection open, the client stuck). Such a response
 * now fails like any lost connection, and the client retries.
 */
export class CutResponseAwareHttpStack extends DefaultHttpStack {
  override createRequest(method: string, url: string): HttpRequest {
    const request = super.createRequest(method, url);
    const send = request.send.bind(request);
    request.send = (body) => {
      const sent = send(body);
      const nodeRequest = request.getUnderlyingObject() as ClientRequest;
      nodeRequest.on('response', (response) =>
        response.on('close', () => {
          if (!response.complete) nodeRequest.emit('error', new Error('response cut short'));
        }),
      );
      return sent;
    };
    return request;
  }
}
