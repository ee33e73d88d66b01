import { AdaptiveLimit, mapWithin } from '../../src/run/concurrency.js'

const tick = () => new Promise(resolve => setTimeout(resolve, 2))

describe('AdaptiveLimit', () => {
  it('never runs more tasks at once than its limit, and keeps the results in order', async () => {
    const limit = new AdaptiveLimit(3)
    let active = 0
    let peak = 0
    const results = await mapWithin(limit, [...Array(20).keys()], async n => {
      active += 1
      peak = Math.max(peak, active)
      await tick()
      active -= 1
      return n * 2
    })
    expect(peak).toBe(3)
    expect(limit.peak).toBe(3)
    expect(results).toEqual([...Array(20).keys()].map(n => n * 2))
  })

  it('runs at most half as many at once after halve(), for the tasks that start later', async () => {
    const limit = new AdaptiveLimit(8)
    let active = 0
    const seenAfterHalving: number[] = []
    await mapWithin(limit, [...Array(40).keys()], async n => {
      active += 1
      if (n === 0) limit.halve()
      else seenAfterHalving.push(active)
      await tick()
      active -= 1
    })
    expect(limit.limit).toBe(4)
    expect(Math.max(...seenAfterHalving)).toBe(4)
  })

  it('never goes below one', () => {
    const limit = new AdaptiveLimit(2)
    limit.halve()
    limit.halve()
    limit.halve()
    expect(limit.limit).toBe(1)
  })

  it('passes a failure through and frees the slot', async () => {
    const limit = new AdaptiveLimit(1)
    await expect(limit.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await expect(limit.run(async () => 'next')).resolves.toBe('next')
  })
})
