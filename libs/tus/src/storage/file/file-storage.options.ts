/** Options of {@link FileStorageBackend}. */
export interface FileStorageOptions {
  /** Folder of the uploads; created at start-up when missing. */
  directory: string;
  /**
   * How long a request waits for an upload held by another request (this or another process)
   * before answering 423.
   * @default 3000
   */
  lockTimeoutMs?: number;
  /**
   * A lock file untouched for this long belongs to a crashed process and is taken over.
   * Holders touch their lock every third of this.
   * @default 30000
   */
  lockStaleMs?: number;
}
