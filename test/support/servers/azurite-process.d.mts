/** Azurite's development account name: public and fixed. */
export declare const AZURITE_ACCOUNT: string;
/** Azurite's development account key: public and fixed. */
export declare const AZURITE_ACCOUNT_KEY: string;

/** An Azurite blob service process on loopback. */
export interface AzuriteProcess {
  port: number;
  /** `AZURE_STORAGE_CONNECTION_STRING` for it. */
  connectionString: string;
  /** Its data folder (removed by `stop()` unless the caller gave it). */
  location: string;
  /** A graceful stop (SIGTERM: Azurite saves its metadata, which it otherwise saves every 5 s). */
  stop(): Promise<void>;
}

/** The connection string of the development account on an Azurite at `port` on loopback. */
export declare function azuriteConnectionString(port: number): string;

/**
 * Starts `azurite-blob` on a free loopback port with its data in a temporary folder, or where
 * `at` says (a stopped one started again: its port, its folder, kept by `stop()`); it dies with the
 * process that started it.
 */
export declare function startAzuriteProcess(at?: { port?: number; location?: string }): Promise<AzuriteProcess>;

/** Sets `AZURITE_PORT`, which Jest's workers inherit. */
export declare function exportAzurite(server: Pick<AzuriteProcess, 'port'>): void;

/** The port of the run's shared Azurite; throws when the global setup did not start one. */
export declare function azuritePortFromEnv(): number;
