import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';

/** A completed upload as the page lists it (`GET /api/uploads`). */
export interface CompletedUpload {
  id: string;
  /** `metadata.filename`, or the id when the client sent none. */
  name: string;
  size: number;
  /** Lower-case hex SHA-256 of the stored bytes, computed by the server after the upload finished. */
  sha256: string;
  /** ISO 8601. */
  completedAt: string;
  /** Where the page links to the bytes. */
  downloadUrl: string;
}

/** What the page is told over server-sent events. */
export interface UploadRegistryChange {
  type: 'added' | 'removed';
  upload: CompletedUpload;
}

/**
 * The sample's in-memory list of completed uploads, newest first. It is filled by
 * {@link UploadDigestListener} once an upload's SHA-256 is known, and lost on restart: a real app
 * would keep this in its database.
 */
@Injectable()
export class UploadRegistry implements OnModuleDestroy {
  private readonly uploads = new Map<string, CompletedUpload>();
  private readonly changed = new Subject<UploadRegistryChange>();

  /** Every change from now on (for the server-sent events). */
  readonly changes: Observable<UploadRegistryChange> = this.changed.asObservable();

  add(upload: CompletedUpload): void {
    this.uploads.set(upload.id, upload);
    this.changed.next({ type: 'added', upload });
  }

  remove(id: string): void {
    const upload = this.uploads.get(id);
    if (upload === undefined) return;
    this.uploads.delete(id);
    this.changed.next({ type: 'removed', upload });
  }

  list(): CompletedUpload[] {
    return [...this.uploads.values()].sort((a, b) => b.completedAt.localeCompare(a.completedAt));
  }

  /** Ends the event streams, whose open connections would otherwise keep the server from closing. */
  onModuleDestroy(): void {
    this.changed.complete();
  }
}
