/** Response headers by name; undefined values are not sent. */
export type TusHeaders = Record<string, string | number | undefined>;
