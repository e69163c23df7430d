import type { UploadInfo } from '../protocol/upload-info.js';

/** The JSON form of an {@link UploadInfo}, as backends persist it (dates as ISO strings). */
export type StoredUploadInfo = Omit<UploadInfo, 'createdAt' | 'expiresAt' | 'completedAt'> & {
  createdAt: string;
  expiresAt: string | null;
  completedAt: string | null;
};

export function encodeUploadInfo(upload: UploadInfo): StoredUploadInfo {
  return {
    ...upload,
    createdAt: upload.createdAt.toISOString(),
    expiresAt: upload.expiresAt?.toISOString() ?? null,
    completedAt: upload.completedAt?.toISOString() ?? null,
  };
}

export function decodeUploadInfo(stored: StoredUploadInfo): UploadInfo {
  return {
    ...stored,
    metadata: Object.assign(Object.create(null), stored.metadata),
    createdAt: new Date(stored.createdAt),
    expiresAt: stored.expiresAt === null ? null : new Date(stored.expiresAt),
    completedAt: stored.completedAt === null ? null : new Date(stored.completedAt),
  };
}
