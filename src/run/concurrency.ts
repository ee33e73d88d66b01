/**
 * A bound on requests in flight that can be lowered while work runs: a rate limit (429) halves it,
 * so concurrent cancels back off for the rest of the run instead of hammering the API.
 */
export class AdaptiveLimit {
  private active = 0
  private readonly waiting: (() => void)[] = []
  private peakActive = 0
  private halved = 0

  constructor(private current: number) {}

  get limit(): number {
    return this.current
  }

  /** The most tasks that ran at once. */
  get peak(): number {
    return this.peakActive
  }

  /** How many times a rate limit halved the bound: the wait reads it to poll less often. */
  get halvings(): number {
    return this.halved
  }

  /** Halves the bound (at least 1). */
  halve(): void {
    this.halved += 1
    this.current = Math.max(1, Math.floor(this.current / 2))
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    while (this.active >= this.current)
      await new Promise<void>(resolve => this.waiting.push(resolve))
    this.active += 1
    this.peakActive = Math.max(this.peakActive, this.active)
    try {
      return await task()
    } finally {
      this.active -= 1
      this.waiting.shift()?.()
    }
  }
}

/**
 * Runs `task` on every item within the bound; results keep the items' order. As many workers as
 * the bound allows take the items in turn, so the bound's queue holds a few workers, not every item
 * (a queue of 100,000 waiting tasks, shifted one by one, would cost time quadratic in the items).
 */
export async function mapWithin<T, R>(
  limit: AdaptiveLimit,
  items: readonly T[],
  task: (item: T) => Promise<R>
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await limit.run(() => task(items[index]!))
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit.limit, items.length) }, worker))
  return results
}
