/** Numbers as the report prints them */
import type { Summary } from './stats.ts'

/** Milliseconds: whole above 100, one decimal below */
export function ms (value: number | undefined): string {
  if (value == null || Number.isNaN(value)) return '—'
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ms`
}

/** Microseconds, whole */
export function us (value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} µs`
}

/** Kilobytes of 1000 bytes, one decimal */
export function kB (bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} kB`
}

export function ratio (value: number): string {
  return `${value.toFixed(2)}×`
}

export function whole (value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

/** "median (IQR x, min–max)" in milliseconds */
export function spreadMs (summary: Summary): string {
  return `${ms(summary.median)} (IQR ${ms(summary.iqr)}, ${ms(summary.min)}–${ms(summary.max)})`
}

/** The same in µs, for summaries taken in microseconds */
export function spreadUs (summary: Summary): string {
  return `${us(summary.median)} (IQR ${us(summary.iqr)}, ${us(summary.min)}–${us(summary.max)})`
}

/** "median× (IQR x, min–max)" for a summary of ratios */
export function spreadRatio (summary: Summary): string {
  return `${ratio(summary.median)} (IQR ${summary.iqr.toFixed(2)}, ${summary.min.toFixed(2)}–${summary.max.toFixed(2)})`
}

/** A markdown table */
export function table (header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

/** Bytes as MiB, one decimal */
export function mib (bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`
}

/** `spreadMs`, or a dash when there was nothing to measure */
export function optionalSpread (summary: Summary | undefined): string {
  return summary == null ? '—' : spreadMs(summary)
}
