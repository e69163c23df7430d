import { MemoryStorageBackend } from 'nestjs-tus';
import { describeStorageBackend, type CapableBackend } from '../support/storage/storage-backend.suite.js';

// The in-memory backend (for users' unit tests) keeps the same contract as the real ones; it has
// no lock of its own (the module's in-process lock serves it), so the lock tests do not apply.
describeStorageBackend(
  'memory',
  async () => ({ backend: new MemoryStorageBackend() as unknown as CapableBackend, cleanup: async () => undefined }),
  { sharedLock: false },
);
