import { planListings } from '../src/plan.js'
import type { SupersedeRule } from '../src/select.js'

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
