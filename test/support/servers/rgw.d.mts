/** An S3 server the tests can use. */
export interface S3TestServer {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Stops the server if the tests started it; a server given by S3_ENDPOINT is left alone. */
  stop(): Promise<void>;
}

/** What to install or set when no S3 server is available. */
export declare const HOW_TO_GET_AN_S3_SERVER: string;

/**
 * The server the tests use: the one named by `S3_ENDPOINT` (keys from `S3_ACCESS_KEY_ID` and
 * `S3_SECRET_ACCESS_KEY`), or else a Ceph RGW started on loopback with scripts/s3/rgw-start.sh.
 * Throws, saying what to install or set, when neither is possible: the S3 tests never skip.
 */
export declare function startS3Server(): Promise<S3TestServer>;

/** A Ceph RGW the tests started, with the folder of its data, config and logs. */
export interface StartedRgw extends S3TestServer {
  /** Its `CEPH_BASE`. */
  base: string;
}

/**
 * Starts a Ceph RGW on loopback with scripts/s3/rgw-start.sh on `port` (see {@link freeRgwPort}),
 * its data under `base` (default: the script's own, from `port`); `install: false` forbids the
 * script's apt-get install. Resolves once it answers.
 */
export declare function startRgw(options: { port: number; base?: string; install?: boolean; timeoutMs: number }): Promise<StartedRgw>;

/**
 * The first port of `tries` from `start` (every other one) that is free together with the two
 * monitor ports rgw-start.sh derives from it; undefined when none is.
 */
export declare function freeRgwPort(start: number, tries: number): Promise<number | undefined>;

/** Sets `S3_ENDPOINT`, `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY` and `S3_REGION`, which jest's workers inherit. */
export declare function exportS3Server(server: S3TestServer): void;

/** The server described by the environment; throws when `S3_ENDPOINT` or its keys are missing. */
export declare function s3ServerEnv(): Omit<S3TestServer, 'stop'>;

/** The sample app's environment for storing in `bucket` on `server` (`TUS_STORAGE=s3`). */
export declare function sampleS3Env(server: Omit<S3TestServer, 'stop'>, bucket: string): Record<string, string>;
