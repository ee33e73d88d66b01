import { listed } from '../../__fixtures__/evaluations.js'
import { filtersMayHideBaselines, planBaselineListings, planListings } from '../../src/run/plan.js'
import type { SupersedeRule } from '../../src/judge/supersede.js'

const P1 = 'prompt-1111111111111111111'
const P2 = 'prompt-2222222222222222222'
const rule: SupersedeRule = { cutoff: 5_000, promptIds: [P1], keep: new Set() }
const base = {
  promptIds: [P1],
  statuses: [],
  evaluatorId: 'evaluator-aaaaaaaaaaaaaaaa',
  datasetId: undefined,
  createdAfter: undefined
}

describe('planListings', () => {
  it('makes one listing per prompt when no status is given', () => {
    const listings = planListings({ ...base, promptIds: [P1, P2] }, undefined)
    expect(listings).toEqual([
      {
        promptId: P1,
        filters: {
          status: undefined,
          evaluatorId: base.evaluatorId,
          datasetId: undefined,
          createdAfter: undefined
        },
        judge: true
      },
      {
        promptId: P2,
        filters: {
          status: undefined,
          evaluatorId: base.evaluatorId,
          datasetId: undefined,
          createdAfter: undefined
        },
        judge: true
      }
    ])
  })

  it('makes one listing per status, because the API takes one status per request', () => {
    const listings = planListings({ ...base, statuses: ['completed', 'failed'] }, undefined)
    expect(listings.map(l => l.filters.status)).toEqual(['completed', 'failed'])
  })

  it('needs no extra listing to find superseded evaluations when the judged listing holds all statuses', () => {
    expect(planListings(base, rule)).toHaveLength(1)
  })

  it('lists queued and running before the cutoff when the status filter leaves them out', () => {
    const listings = planListings({ ...base, statuses: ['completed'] }, rule)
    expect(listings.filter(l => !l.judge).map(l => l.filters)).toEqual([
      {
        status: 'queued',
        evaluatorId: base.evaluatorId,
        datasetId: undefined,
        createdBefore: 5_000
      },
      {
        status: 'running',
        evaluatorId: base.evaluatorId,
        datasetId: undefined,
        createdBefore: 5_000
      }
    ])
  })

  it('lists only the in-flight status the status filter leaves out', () => {
    const listings = planListings({ ...base, statuses: ['running', 'completed'] }, rule)
    expect(listings.filter(l => !l.judge).map(l => l.filters.status)).toEqual(['queued'])
  })

  it('lists in-flight evaluations apart when created-after would hide older ones', () => {
    const listings = planListings({ ...base, createdAfter: 1_000 }, rule)
    expect(listings.filter(l => !l.judge).map(l => l.filters.status)).toEqual(['queued', 'running'])
    expect(listings.filter(l => !l.judge).every(l => l.filters.createdAfter === undefined)).toBe(
      true
    )
  })
})

describe('planBaselineListings', () => {
  const judged = [
    listed({ submittedAt: 300 }, P1),
    listed({ submittedAt: 500 }, P1),
    listed({ submittedAt: 400 }, P2)
  ]

  it('lists nothing more when the filters hide no completed evaluation', () => {
    expect(filtersMayHideBaselines(base)).toBe(false)
    expect(filtersMayHideBaselines({ ...base, statuses: ['running', 'completed'] })).toBe(false)
    expect(planBaselineListings({ ...base, promptIds: [P1, P2] }, judged)).toEqual([])
  })

  it.each([
    ['created-after', { createdAfter: 100 }],
    ['a status filter without completed', { statuses: ['queued' as const, 'running' as const] }]
  ])(
    'with %s, lists each judged prompt’s completed evaluations before its newest judged one, newest first',
    (_, filters) => {
      const settings = { ...base, ...filters, promptIds: [P1, P2, 'prompt-3333333333333333333'] }
      expect(filtersMayHideBaselines(settings)).toBe(true)
      const shared = {
        status: 'completed',
        evaluatorId: base.evaluatorId,
        datasetId: undefined,
        sort: 'createdAt:desc'
      }
      // the prompt with nothing judged needs no baseline
      expect(planBaselineListings(settings, judged)).toEqual([
        { promptId: P1, filters: { ...shared, createdBefore: 500 } },
        { promptId: P2, filters: { ...shared, createdBefore: 400 } }
      ])
    }
  )
})
