/**
 * Rows 1 and 5: one prompt's evaluations listed by the action (`node dist/index.js`), and by the
 * hand-written peer, against the same fake API at the same latency, runs interleaved.
 */
import { MAX_PAGE_SIZE } from '../src/adaline/schema.js'
import type { FakeAdaline } from '../test-support/fake-adaline.js'
import { runAction } from '../test-support/run-action.js'
import { intervals, median, servingTime, span } from './intervals.js'
import { listWithPeer } from './peer.js'
import { count, ratio, type Figure } from './table.js'
import {
  actionInputs,
  completedEvaluations,
  isEvaluatorsRequest,
  isListRequest,
  startApi
} from './workload.js'

export interface ListingOptions {
  evaluations: number
  latencyMs: number
  runs: number
  /** why the peer is not run, or undefined to run it */
  skipPeer?: string
}

interface Listing {
  /** every request made, list or not, but the names stage's (row 10a counts those) */
  requests: number
  /** the names stage's evaluator listings */
  names: number
  /** first list request arriving → last list answer finished */
  wallMs: number
  /** the fake's own time serving the list requests, summed */
  servingMs: number
}

export async function listingFigures(options: ListingOptions): Promise<Figure[]> {
  const { evaluations, latencyMs, runs, skipPeer } = options
  const api = await startApi(latencyMs, completedEvaluations(evaluations))
  try {
    const action: Listing[] = []
    const peer: Listing[] = []
    for (let run = 0; run < runs; run += 1) {
      action.push(await measure(api, () => listWithAction(api, evaluations)))
      if (!skipPeer) peer.push(await measure(api, () => peerListing(api, evaluations)))
    }
    const pages = Math.ceil(evaluations / MAX_PAGE_SIZE)
    const requests = Math.max(...action.map(l => l.requests))
    const names = Math.max(...action.map(l => l.names))
    const overhead = median(action.map(l => l.wallMs / l.servingMs))
    const figures: Figure[] = [
      {
        id: '1a',
        what: `requests to list ${count(evaluations)} evaluations`,
        measured: `${count(requests)} (+ ${names} of evaluator names)`,
        goal: `≤ ${pages + 1} (${pages} pages + 1)`,
        met: requests <= pages + 1,
        gatesQuick: true
      },
      {
        id: '1b',
        what: `listing wall time / API serving time, ${latencyMs} ms per request`,
        measured: ratio(overhead),
        goal: '≤ 1.30',
        met: overhead <= 1.3,
        gatesQuick: false
      }
    ]
    if (skipPeer) {
      figures.push({
        id: '5',
        what: 'listing vs curl + jq loop (bench/peer.sh)',
        measured: `skipped: ${skipPeer}`,
        goal: '—',
        gatesQuick: false
      })
      return figures
    }
    const vsPeer = median(action.map(l => l.wallMs)) / median(peer.map(l => l.wallMs))
    const peerRequests = Math.max(...peer.map(l => l.requests))
    figures.push(
      {
        id: '5a',
        what: 'listing wall time, action / curl + jq loop',
        measured: ratio(vsPeer),
        goal: '≤ 1.00',
        met: vsPeer <= 1,
        gatesQuick: false
      },
      {
        id: '5b',
        what: 'requests, action vs curl + jq loop',
        measured: `${count(requests)} vs ${count(peerRequests)}`,
        goal: 'action ≤ loop',
        met: requests <= peerRequests,
        gatesQuick: true
      }
    )
    return figures
  } finally {
    await api.close()
  }
}

/** Runs one listing and reads its figures from what the fake recorded. */
async function measure(api: FakeAdaline, list: () => Promise<void>): Promise<Listing> {
  api.clearRequests()
  await list()
  const lists = intervals(api.requests.filter(isListRequest))
  // the peer names no evaluators: the action's one page of names is shown beside, not compared
  const names = api.requests.filter(isEvaluatorsRequest).length
  return {
    requests: api.requests.length - names,
    names,
    wallMs: span(lists),
    servingMs: servingTime(lists)
  }
}

async function listWithAction(api: FakeAdaline, evaluations: number): Promise<void> {
  const run = await runAction(actionInputs(api))
  if (run.exitCode !== 0) {
    throw new Error(`the action exited ${run.exitCode}: ${run.errors.join('; ') || run.stderr}`)
  }
  const listed = run.outputs['listed-count']
  if (listed !== String(evaluations)) {
    throw new Error(`the action listed ${listed} of ${evaluations} evaluations`)
  }
}

async function peerListing(api: FakeAdaline, evaluations: number): Promise<void> {
  const listed = await listWithPeer(api)
  if (listed !== evaluations) {
    throw new Error(`bench/peer.sh listed ${listed} of ${evaluations} evaluations`)
  }
}
