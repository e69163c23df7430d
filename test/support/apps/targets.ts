import { BACKENDS, type BackendFixture } from './backends.js';
import { PLATFORMS, type Platform } from './tus-app.js';

/** One storage backend on one HTTP platform: what an end-to-end test runs against. */
export interface Target {
  /** e.g. `file backend on express`, for test titles (`$name`). */
  name: string;
  backend: BackendFixture;
  platform: Platform;
}

/**
 * Every backend on every platform: feature suites run once per entry
 * (`describe.each(TARGETS)`), and pass `{ backend, platform }` to `startTusApp`.
 */
export const TARGETS: Target[] = BACKENDS.flatMap((backend) =>
  PLATFORMS.map((platform) => ({ name: `${backend.name} backend on ${platform}`, backend, platform })),
);
