/**
 * `npm run bench [-- --quick]`: issue 5's benchmark. Starts the fake Adaline API with a latency
 * per request, runs the bundled action against it as the runner does, and prints one Markdown
 * table of figures measured in this run (ratios, so they hold on a noisy machine).
 *
 * Full mode exits 1 when any goal is missed. `--quick` (for CI) uses smaller workloads, skips the
 * peer, and exits 1 only when a goal on request counts, requests in flight or memory is missed:
 * time ratios are reported, never enforced, on shared machines.
 */
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { bundleFigure } from './bundle.js'
import { cancelFigures } from './cancelling.js'
import { listingFigures } from './listing.js'
import { memoryFigure } from './memory.js'
import { peerAvailable } from './peer.js'
import { startupFigure } from './startup.js'
import { count, missed, renderTable, type Figure } from './table.js'

const MODES = {
  full: { listed: 10_000, listingRuns: 3, cancels: 100, memory: 100_000, startupRuns: 31 },
  quick: { listed: 2_000, listingRuns: 1, cancels: 20, memory: 20_000, startupRuns: 5 }
}
const LIST_LATENCY_MS = 20
const CANCEL_LATENCY_MS = 100

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' } }, strict: true })
  const quick = values.quick ?? false
  const mode = quick ? MODES.quick : MODES.full
  const started = performance.now()
  const progress = (text: string) => process.stderr.write(`bench: ${text}\n`)

  const skipPeer = quick
    ? 'not run with --quick'
    : peerAvailable()
      ? undefined
      : 'install curl and jq'
  const sections: [string, string, () => Promise<Figure[]>][] = [
    [
      '1',
      `listing ${count(mode.listed)} evaluations${skipPeer ? '' : ', and with the peer'}`,
      () =>
        listingFigures({
          evaluations: mode.listed,
          latencyMs: LIST_LATENCY_MS,
          runs: mode.listingRuns,
          skipPeer
        })
    ],
    [
      '2',
      `cancelling ${count(mode.cancels)} superseded evaluations`,
      () => cancelFigures({ evaluations: mode.cancels, latencyMs: CANCEL_LATENCY_MS })
    ],
    [
      '3',
      `start-up, ${mode.startupRuns} runs each`,
      async () => [await startupFigure(mode.startupRuns)]
    ],
    [
      '4',
      `peak RSS listing ${count(mode.memory)} evaluations`,
      async () => [await memoryFigure(mode.memory)]
    ],
    ['6', 'bundle size', async () => [await bundleFigure()]]
  ]
  const figures: Figure[] = []
  for (const [id, title, measure] of sections) {
    progress(title)
    try {
      figures.push(...(await measure()))
    } catch (error) {
      figures.push({
        id,
        what: title,
        measured: `error: ${(error as Error).message.split('\n')[0]}`,
        goal: 'no error',
        met: false,
        gatesQuick: true
      })
    }
  }
  figures.sort((a, b) => a.id.localeCompare(b.id))
  const seconds = ((performance.now() - started) / 1000).toFixed(0)

  console.log(renderTable(figures, footnotes(quick, mode, skipPeer)))
  const misses = missed(figures, quick)
  console.log(
    `\n${quick ? 'Quick' : 'Full'} run in ${seconds} s on Node ${process.version}, ${cpus().length} CPU(s): ` +
      (misses.length === 0
        ? quick
          ? 'every goal on requests and memory met (time ratios are only reported with --quick).'
          : 'every goal met.'
        : `goal missed: ${misses.map(f => f.id).join(', ')}.`)
  )
  return misses.length === 0 ? 0 : 1
}

function footnotes(
  quick: boolean,
  mode: (typeof MODES)['full'],
  skipPeer: string | undefined
): string[] {
  return [
    `Run with \`npm run bench${quick ? ' -- --quick' : ''}\`. The fake Adaline API (test-support/fake-adaline.ts) runs in the benchmark's process on loopback and answers each request after the latency given; the action is \`node dist/index.js\`, run as the runner runs it. Time figures are ratios of times taken in the same run.`,
    '',
    `- 1a: every request the action made while listing one prompt with no filters; one per page of 200, the API's maximum.`,
    `- 1b: listing wall time, from the first list request arriving at the fake to the last list answer finished (Node start-up is row 3), divided by the time the fake spent serving those requests (arrival to answer, latency included, summed). The excess is the action's own work between pages${mode.listingRuns > 1 ? `; median of ${mode.listingRuns} runs` : ''}.`,
    `- 2a: a force-push supersedes ${count(mode.cancels)} running evaluations; cancel phase wall time (first cancel arriving to last answer finished) divided by the cancels' summed serving time, i.e. doing them one by one.`,
    `- 2b: the most requests the fake was serving at once during the cancels.`,
    `- 2c: the same run with the first cancel answered 429 (\`retry-after: 0\`): the peak before that 429 was answered, and the peak once the requests already in flight at that moment had finished.`,
    `- 3: time from spawning \`node dist/index.js\` to its first byte on stdout, against bench/baseline/index.ts (\`core.info('hello')\`) bundled with ncc at bench time; runs interleaved, medians compared. The action is given no \`policy\`, so it does not load its YAML parser, a lazy chunk like the GitHub client and the proxy agents.`,
    `- 4: the action process's peak resident set (VmHWM, polled every 5 ms until exit), listing at 0 ms latency.`,
    skipPeer
      ? `- 5: the peer (bench/peer.sh) was skipped: ${skipPeer}.`
      : `- 5: bench/peer.sh, a hand-written \`curl\` + \`jq\` loop following \`nextCursor\` with \`limit=200\` (without it the API pages 50 at a time: 4× the requests), over the same fake at the same latency, runs interleaved with 1b's; wall time measured as in 1b, medians compared.`,
    `- 6: sum of the files in dist/: the action, the \`adaline-evals\` command and the licences; reported only.`
  ]
}

process.exitCode = await main()
