/**
 * A numbered piece of an upload stored as one object of the backend's (an S3 part, an Azure
 * block), recorded once its request committed it.
 */
export interface StoredPart {
  partNumber: number;
  /** The object's version tag as the store returned it (S3: the quoted ETag CompleteMultipartUpload checks). */
  etag: string;
  size: number;
}
