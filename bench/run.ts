/**
 * `npm run bench [-- --quick]`: issue 5's benchmark, with issue 11's growth and signal rows and
 * issue 12's fleet. Starts the fake Adaline API with a latency per request, runs the bundled
 * action against it as the runner does, and prints one Markdown table of figures measured in this
 * run (ratios, so they hold on a noisy machine).
 *
 * Full mode exits 1 when any goal is missed. `--quick` (for CI) uses smaller workloads, skips the
 * peer, and exits 1 only when a goal on request counts, requests in flight, memory, growth with
 * size, the answer to a signal or the fleet's verdicts is missed: those have margins no shared
 * machine's noise bridges (linear against quadratic growth, seconds against a 5 s goal). Other
 * time ratios are reported, never enforced, on shared machines.
 */
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { plural } from '../src/format.js'
import { bundleFigure } from './bundle.js'
import { cancelFigures } from './cancelling.js'
import {
  BUDGET_HEAP_MIB,
  BUDGET_PAIRS,
  COMPARING_GROWTH_GOAL,
  FEW_EVALUATORS,
  MANY_EVALUATORS,
  PAIRS,
  PAIR_ROWS,
  budgetFigures,
  comparingGrowthFigure,
  namesFigure,
  rowRequestFigures
} from './comparing.js'
import {
  BURST,
  LATENCY_MS as FLEET_LATENCY_MS,
  REAL_WINDOW_MS,
  describeWindow,
  fleetFigures,
  fleetMinimum,
  type FleetShape
} from './fleet.js'
import { listingFigures } from './listing.js'
import { memoryFigure } from './memory.js'
import { peerAvailable } from './peer.js'
import { GROWTH_GOAL, growthFigure, signalFigure } from './scaling.js'
import { startupFigure } from './startup.js'
import { count, missed, ratio, renderTable, type Figure } from './table.js'

const FULL_FLEET: FleetShape = {
  reports: 4,
  reportEvaluations: 4_000,
  forcePushes: 4,
  cancelsEach: 50,
  startWaits: 4
}
const QUICK_FLEET: FleetShape = { ...FULL_FLEET, reportEvaluations: 1_000, cancelsEach: 10 }

const MODES = {
  full: {
    listed: 10_000,
    listingRuns: 3,
    cancels: 100,
    memory: 100_000,
    startupRuns: 31,
    growth: { small: 10_000, large: 40_000, runs: 5 },
    signal: { evaluations: 40_000, runs: 3 },
    // Adaline's own minute: the action's backoff is in real seconds, so only an uncompressed window
    // gives figures that do not depend on the compression (about 3.5 minutes)
    fleet: { ...FULL_FLEET, windowsMs: [REAL_WINDOW_MS] },
    budgetRuns: 3,
    budgetFull: true,
    comparingGrowth: { small: 2_500, large: 10_000, runs: 5 }
  },
  quick: {
    listed: 2_000,
    listingRuns: 1,
    cancels: 20,
    memory: 20_000,
    startupRuns: 5,
    // four times apart, like the full run's: a linear build measures about 2 here (start-up
    // weighs on the smaller run), the quadratic one measured 14.7
    growth: { small: 5_000, large: 20_000, runs: 5 },
    // a quadratic pass after the listing kept the signal waiting 9.3 s at 40,000 before the fix
    signal: { evaluations: 40_000, runs: 1 },
    fleet: { ...QUICK_FLEET, windowsMs: [20_000] },
    budgetRuns: 1,
    // the capped run alone (11a, 11b): 11c and 11d are only reported
    budgetFull: false,
    // four times apart like row 7's; a quadratic stage would measure near 16
    comparingGrowth: { small: 500, large: 2_000, runs: 3 }
  }
}
const LIST_LATENCY_MS = 20
const CANCEL_LATENCY_MS = 100

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, only: { type: 'string' } },
    strict: true
  })
  const quick = values.quick ?? false
  // `--only 10,12`: those rows alone, e.g. while working on one stage
  const only = values.only?.split(',').map(id => id.trim())
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
    ['6', 'bundle size', async () => [await bundleFigure()]],
    [
      '7',
      `scope: all at ${count(mode.growth.small)} and ${count(mode.growth.large)} evaluations`,
      async () => [await growthFigure(mode.growth)]
    ],
    [
      '8',
      `SIGINT while busy with ${count(mode.signal.evaluations)} evaluations`,
      async () => [await signalFigure(mode.signal)]
    ],
    [
      '9',
      `a fleet of ${fleetSize(mode.fleet)} jobs on one rate limit`,
      () => fleetFigures({ ...mode.fleet, progress })
    ],
    [
      '10',
      `names of ${count(MANY_EVALUATORS + FEW_EVALUATORS)} evaluators; rows of ${PAIRS} pairs`,
      async () => [await namesFigure(), ...(await rowRequestFigures())]
    ],
    [
      '11',
      `comparing ${BUDGET_PAIRS} pairs at the row budget`,
      () => budgetFigures(mode.budgetRuns, mode.budgetFull)
    ],
    [
      '12',
      `names and comparisons at ${count(mode.comparingGrowth.small)} and ${count(mode.comparingGrowth.large)} evaluations`,
      async () => [await comparingGrowthFigure(mode.comparingGrowth)]
    ]
  ]
  const figures: Figure[] = []
  for (const [id, title, measure] of sections) {
    if (only && !only.includes(id)) continue
    progress(title)
    const sectionStarted = performance.now()
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
    // each section's share of the run, for keeping --quick short in CI
    progress(`  row ${id}: ${((performance.now() - sectionStarted) / 1000).toFixed(0)} s`)
  }
  figures.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }))
  const seconds = ((performance.now() - started) / 1000).toFixed(0)

  console.log(renderTable(figures, footnotes(quick, mode, skipPeer)))
  const misses = missed(figures, quick)
  console.log(
    `\n${quick ? 'Quick' : 'Full'} run in ${seconds} s on Node ${process.version}, ${plural(cpus().length, 'CPU')}: ` +
      (misses.length === 0
        ? quick
          ? 'every goal that gates --quick met (other time ratios are only reported with --quick).'
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
    `- 1a: every request the action made while listing one prompt with no filters; one per page of 200, the API's maximum. The names stage's one page of evaluators is shown beside and not counted (row 10a counts it; the peer of row 5 names nothing).`,
    `- 1b: listing wall time, from the first list request arriving at the fake to the last list answer finished (Node start-up is row 3), divided by the time the fake spent serving those requests (arrival to answer, latency included, summed). The excess is the action's own work between pages${mode.listingRuns > 1 ? `; median of ${mode.listingRuns} runs` : ''}.`,
    `- 2a: a force-push supersedes ${count(mode.cancels)} running evaluations; cancel phase wall time (first cancel arriving to last answer finished) divided by the cancels' summed serving time, i.e. doing them one by one.`,
    `- 2b: the most requests the fake was serving at once during the cancels.`,
    `- 2c: the same run with the first cancel answered 429 (\`retry-after: 0\`): the peak before that 429 was answered, and the peak once the requests already in flight at that moment had finished.`,
    `- 3: time from spawning \`node dist/index.js\` to its first byte on stdout, against bench/baseline/index.ts (\`core.info('hello')\`) bundled with ncc at bench time; runs interleaved, medians compared. The action is given no \`policy\`, so it does not load its YAML parser, a lazy chunk like the GitHub client and the proxy agents.`,
    `- 4: the action process's peak resident set (VmHWM, polled every 5 ms until exit), listing at 0 ms latency.`,
    skipPeer
      ? `- 5: the peer (bench/peer.sh) was skipped: ${skipPeer}.`
      : `- 5: bench/peer.sh, a hand-written \`curl\` + \`jq\` loop following \`nextCursor\` with \`limit=200\` (without it the API pages 50 at a time: 4× the requests), over the same fake at the same latency, runs interleaved with 1b's; wall time measured as in 1b, medians compared.`,
    `- 6: sum of the files in dist/: the action, the \`adaline-evals\` command and the licences; reported only.`,
    `- 7: one prompt, one evaluator, every evaluation completed; \`policy: scope: all\` with max-fail-runs and max-pass-rate-drop, so every evaluation is judged and compared with its baseline. CPU time of the action's process (all its threads, start-up included, read by bench/cpu-time.cjs as it exits) at ${count(mode.growth.large)} over that at ${count(mode.growth.small)}, medians of ${mode.growth.runs} interleaved runs, the fake at 0 ms per request: growth in line with the work is a ratio of about ${mode.growth.large / mode.growth.small} (less, as start-up weighs on the smaller run), quadratic growth ${(mode.growth.large / mode.growth.small) ** 2}; the goal is ${GROWTH_GOAL}. CPU time, as wall time also counts the fake's work and the waits for a core on a shared machine.`,
    `- 8: the same run at ${count(mode.signal.evaluations)} evaluations; SIGINT as soon as the action logs that its listing is done ("Listed … evaluations"), from where the action works on every evaluation with no request to wait for; time from the signal to the process's exit${mode.signal.runs > 1 ? `, median of ${mode.signal.runs} runs` : ''}. A process still running 30 s after the signal is killed. "stopped by it": the run ended with its "Stopped by SIGINT" error rather than finishing first.`,
    `- 9a–9d: ${fleetSize(mode.fleet)} \`node dist/index.js\` processes started at once against one fake whose single token bucket serves every request (${describeWindow(mode.fleet.windowsMs[0]!)}, a burst of ${BURST}, ${FLEET_LATENCY_MS} ms per request; past it 429 RATE_LIMIT_EXCEEDED without Retry-After, as Adaline documents): ${mode.fleet.reports} reports over ${count(mode.fleet.reportEvaluations)} evaluations each (\`scope: all\`, half passing, half failing on max-cost), ${mode.fleet.forcePushes} force-pushes that each supersede ${mode.fleet.cancelsEach} running evaluations (one page of 200 lists them), ${mode.fleet.startWaits} start + wait runs (one evaluation, about 5 s). Right: the gate and exit code the job should have, and no other error; for a force-push, none of its ${mode.fleet.cancelsEach} still queued or running at the fake and all in \`cancelled\`; for a start, exactly one evaluation started at the fake, named in \`started\`, completed. Minimum: one request per page of 200, one per cancel, for a start the POST and one read of the finished evaluation, and for every job one page of its prompt's evaluators (the names in its report) (${fleetMinimum(mode.fleet)} in all; the listing a start makes first and every other poll are excess). Floor: the minimum at the bucket's rate. Wall time: first request at the fake to the last process's exit. 9b and 9d are met only where every verdict was right: a job that gives up early makes fewer requests and ends sooner.`,
    mode.fleet.windowsMs.every(w => w === REAL_WINDOW_MS)
      ? `- 9, time: Adaline's own window, a minute, uncompressed: the action waits in real seconds (its backoff after a 429 starts around a second and doubles up to 60 s; polls are 2 s apart at least), so only at this window do its figures not depend on a compression. \`--quick\` runs a smaller fleet with the window compressed to 20 s, where each of the action's waits buys 3 times the refill it would from Adaline; there only the verdicts count.`
      : `- 9, time: Adaline's window is a minute; here it is compressed to ${mode.fleet.windowsMs.map(w => `${w / 1000} s`).join(' and to ')} to keep the run short. The action waits in real seconds (its backoff after a 429 starts around a second and doubles up to 60 s; polls are 2 s apart at least), so each of its waits buys ${mode.fleet.windowsMs.map(w => REAL_WINDOW_MS / w).join(' or ')} times the refill it would from Adaline: compression flatters the verdicts, the retries and the 429 share, and penalises wall time over the floor. Only the verdicts count here; \`npm run bench\` runs the fleet at Adaline's own minute.`,
    `- 10a: the names stage (GET /prompts/{id}/evaluators, pages of 200): one run over 2 prompts, the first with an evaluation of each of its ${count(MANY_EVALUATORS)} evaluators, the second with evaluations of the ${FEW_EVALUATORS} it lists first of its ${count(MANY_EVALUATORS)}; every evaluator listing counted at the fake, and none may ask for a page (prompt, cursor) twice. The floor is ⌈evaluators in the report / 200⌉ per prompt: the second prompt's listing stops once its ${FEW_EVALUATORS} are found. The log must say every evaluator was named.`,
    `- 10b–10d: ${PAIRS} judged evaluations on one prompt, each with a baseline of its evaluator and dataset, ${PAIR_ROWS} rows a side (${Math.ceil(PAIR_ROWS / 200)} pages of 200) of which 10 newly fail (so the report shows failing rows), run three times: with max-new-failures and a \`junit-file\` (both sides compared; the JUnit file and the failing rows reuse the judged side's pages); with a \`junit-file\` and a rule that reads no rows (the judged side only); with neither (no page of every row; the failing rows by grade, one request each). "pages": requests for every row result; "by grade": requests for failing or unknown rows; "repeated": a results request (path, query and cursor) made twice.`,
    `- 11: ${BUDGET_PAIRS} such pairs of 10,000 rows a side (the most fetched for one evaluation), 200,000 row results in all: the run's whole comparison budget, with max-new-failures. 11a: every results request counted (50 pages a side). 11b: the action run with \`--max-old-space-size=${BUDGET_HEAP_MIB}\`${mode.budgetRuns > 1 ? `, ${mode.budgetRuns} times` : ''}: it finishes only if it does not hold every row to the end (the build that did ran out of heap at 90 and 110 MiB); its peak RSS as row 4. ${mode.budgetFull ? `11c, 11d: the same with a \`junit-file\` at the default heap, against a rule that reads no rows (the JUnit file then fetches the judged side alone), runs interleaved${mode.budgetRuns > 1 ? `, medians of ${mode.budgetRuns}` : ''}: peak RSS (V8 leaves garbage until it must collect, so this is more than the rows need), CPU time as row 7, wall time from spawn to exit with the fake at 0 ms per request.` : `\`npm run bench\` adds the run with a \`junit-file\` at the default heap (peak RSS, CPU and wall time) against a rule that reads no rows.`}`,
    `- 12: one prompt, ${count(mode.comparingGrowth.small)} and ${count(mode.comparingGrowth.large)} completed evaluations of one row each, ten per evaluator, one dataset; \`policy: scope: all\` with max-fail-runs and max-new-failures, so every evaluation is judged and named, and all but each evaluator's first compared row by row with the one before: one results page per evaluation and ⌈evaluators / 200⌉ evaluator pages, both checked in every run. CPU time ratio as row 7, medians of ${mode.comparingGrowth.runs} interleaved runs: linear about 4 (less, as start-up weighs on the smaller run), n log n ${ratio(nLogNRatio(mode.comparingGrowth))}, quadratic 16; the goal is ${COMPARING_GROWTH_GOAL}.`
  ]
}

/** What n log n growth would measure between the two sizes. */
function nLogNRatio({ small, large }: { small: number; large: number }): number {
  return (large * Math.log(large)) / (small * Math.log(small))
}

function fleetSize(shape: FleetShape): number {
  return shape.reports + shape.forcePushes + shape.startWaits
}

process.exitCode = await main()
