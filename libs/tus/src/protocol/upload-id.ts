import { randomBytes } from 'node:crypto';

// URL-safe, and unable to name anything but a direct child of the upload folder or key prefix:
// no dots, no slashes (Express decodes %2F into the route parameter, so this check must see it).
const UPLOAD_ID = /^[A-Za-z0-9_-]{1,200}$/;

/** True for an id this module could have generated; any other id is answered 404. */
export function isValidUploadId(id: string): boolean {
  return UPLOAD_ID.test(id);
}

/** The default id generator: 128 random bits, base64url (22 characters). */
export function generateUploadId(): string {
  return randomBytes(16).toString('base64url');
}
