// Medians, pair-by-pair ratios and the markdown table.
import { execSync } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';

export function median(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median of value[i] / base[i] over the repetitions: each server against the bare pipe of the same round. */
export function pairRatio(values, base) {
  return median(values.map((value, i) => value / base[i]));
}

export function formatValue(value, unit) {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === 'MiB') return `${(value / 2 ** 20).toFixed(1)} MiB`;
  if (unit === '+MiB') {
    const mib = Math.round((value / 2 ** 20) * 10) / 10;
    return `${mib > 0 ? '+' : mib < 0 ? '−' : '±'}${Math.abs(mib).toFixed(1)} MiB`;
  }
  if (unit === 'cores') return `${value.toFixed(2)} cores`;
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${unit}`;
}

export function formatRatio(ratio) {
  return Number.isFinite(ratio) ? ratio.toFixed(2) : '—';
}

/**
 * rows: [{ title, unit, values: { [serverKey]: number[] }, ratios: boolean }]
 * servers: [{ key, label }], the first being the bare pipe.
 */
export function markdownTable(rows, servers) {
  const [base, ...others] = servers;
  const header = ['scenario', ...servers.map((s) => s.label), ...others.map((s) => `ratio ${s.label}/${base.label}`)];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i ? '---:' : '---')).join('|')}|`];
  for (const row of rows) {
    const cells = [row.title];
    for (const s of servers) cells.push(formatValue(median(row.values[s.key] ?? []), row.unit));
    for (const s of others) {
      const ratio = row.ratios ? pairRatio(row.values[s.key] ?? [], row.values[base.key] ?? []) : NaN;
      cells.push(formatRatio(ratio));
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function machine() {
  const cpu = cpus();
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execSync('git status --porcelain -- libs apps', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    if (dirty.trim()) commit += ' (with uncommitted changes in libs/ or apps/)';
  } catch {}
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Linux ${release()}, Node ${process.version}, nestjs-tus ${commit}`;
}

/** The 1-minute load average, with a warning when other work shares the machine. */
export function load() {
  const [one] = loadavg();
  const busy = one > cpus().length * 0.5;
  return `load average ${one.toFixed(2)}${busy ? ' (other work is running: figures are noisy)' : ''}`;
}
