/**
 * A process's own memory, as the streamed scenarios measure it (in the process itself): RSS, the
 * anonymous part of it, and the kernel's exact peak mark.
 */
import { readFileSync, writeFileSync } from 'node:fs'

/** Anonymous RSS in bytes (Linux: RssAnon of /proc/self/status; elsewhere the RSS). */
function anonRss (): number {
  if (process.platform !== 'linux') return process.memoryUsage.rss()
  const match = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
  return match === null ? process.memoryUsage.rss() : Number(match[1]) * 1024
}

/**
 * Reset the kernel's peak-RSS mark (Linux), so that VmHWM afterwards is the exact peak since, with
 * no sampling. Where that fails, the sampled peak is all there is.
 */
function resetPeak (): boolean {
  if (process.platform !== 'linux') return false
  try {
    writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch {
    return false
  }
}

/** The peak RSS since the last resetPeak() (Linux), in bytes. */
function peakRss (): number | undefined {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
  return match === null ? undefined : Number(match[1]) * 1024
}

/** RSS and anonymous RSS at the start of a watch and their highest since, in bytes. */
export interface Peaks {
  rssStart: number
  rssPeak: number
  anonStart: number
  anonPeak: number
}

/**
 * Watch this process's memory from now on: a collection first (with --expose-gc) so the start is
 * not inflated by garbage, then a probe every 20 ms (often enough to see the sawtooth of garbage
 * collection, rarely enough to cost ~nothing) until `stop()`, which gives the peaks.
 */
export function watchMemory (): { stop: () => Peaks } {
  ;(globalThis as { gc?: () => void }).gc?.()
  const exact = resetPeak()
  const peaks: Peaks = { rssStart: process.memoryUsage.rss(), rssPeak: 0, anonStart: anonRss(), anonPeak: 0 }
  peaks.rssPeak = peaks.rssStart
  peaks.anonPeak = peaks.anonStart
  const probe = (): void => {
    peaks.rssPeak = Math.max(peaks.rssPeak, process.memoryUsage.rss())
    peaks.anonPeak = Math.max(peaks.anonPeak, anonRss())
  }
  // Not a reason for the process to stay up, should the watch never be stopped.
  const sampler = setInterval(probe, 20).unref()
  return {
    stop: () => {
      clearInterval(sampler)
      probe()
      if (exact) peaks.rssPeak = Math.max(peaks.rssPeak, peakRss() ?? 0)
      return peaks
    }
  }
}
