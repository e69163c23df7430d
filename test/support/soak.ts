/**
 * `TUS_SOAK=1`: the fault suites run their long versions (more kills, rounds, connections and
 * requests; docs/reliability.md lists both sizes).
 */
export const SOAK = process.env.TUS_SOAK === '1';
