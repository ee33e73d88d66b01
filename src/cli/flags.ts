/** The command's flags: their table, the --help text, and the action inputs they stand for. */
import { parseArgs } from 'node:util'
import type { Naming } from '../inputs/settings.js'

export const HELP = `Usage: adaline-evals --prompt-id ID [options]

Gates on Adaline prompt evaluations: lists them, judges them against a policy, reports pass / fail /
unknown runs, cost, latency and tokens, and cancels the evaluations a new commit made obsolete.
The same engine as the GitHub Action, with its inputs as flags.

Environment:
  ADALINE_API_KEY            workspace API key (required)
  GITHUB_TOKEN               only for --cancel-superseded on a GitHub pull_request event
  NO_COLOR, FORCE_COLOR      the text report is coloured on a terminal only; NO_COLOR=1 never,
                             FORCE_COLOR=1 also when piped

Options:
  --prompt-id ID             prompt to list; repeat or separate with commas for several (required)
  --evaluator-id ID          only evaluations of this evaluator
  --dataset-id ID            only evaluations on this dataset
  --status LIST              only these statuses: queued, running, completed, failed, cancelled,
                             cancelling (repeat or separate with commas); default all
  --created-after TIME       ISO 8601, Unix ms, or a duration back from now (90m, 24h, 7d)
  --policy YAML              gate rules, e.g. 'max-fail-runs: 0'
  --policy-file PATH         gate rules from a YAML file
  --superseded-before TIME   cancel queued and running evaluations submitted before TIME
                             (e.g. the pipeline's start time on GitLab or Jenkins)
  --cancel-superseded MODE   never | force-push | new-commit, decided from the GitHub event in
                             GITHUB_EVENT_NAME / GITHUB_EVENT_PATH (as the action does)
  --keep-run-ids LIST        run IDs never to cancel
  --baseline-run-id LIST     pinned baselines: each replaces the automatic baseline of the judged
                             evaluations of its evaluator and dataset (repeat or separate with
                             commas; with --start, also --evaluator-id and --dataset-id)
  --start                    start one evaluation per prompt for this commit and judge those
  --wait DURATION            wait up to DURATION (90s, 30m, 1h) for the judged evaluations to finish
  --cancel-on-abort BOOL     on Ctrl-C, SIGTERM or an error after starting, cancel the
                             evaluations this run started (default true)
  --dry-run                  report what would be cancelled, cancel nothing
  --fail-on-gate BOOL        exit 1 when the gate fails (default true)
  --base-url URL             API root (default https://api.adaline.ai/v2)
  --max-requests-per-minute N
                             at most N requests a minute to Adaline (this job's share of the
                             workspace's rate limit); default: slow down only after a 429
  --format FORMAT            text (default: sized to the terminal; when piped, COLUMNS or 80),
                             markdown (the job summary), or json (the JSON report)
  --junit FILE               also write a JUnit XML report to FILE (fetches every row result of
                             the judged evaluations): GitLab's artifacts:reports:junit, Jenkins'
                             junit step
  --report-file FILE         also write the JSON report (what --format json prints) to FILE
  --metrics-file FILE        also write OpenMetrics text to FILE: GitLab's
                             artifacts:reports:metrics
  --evaluation-url TEMPLATE  link each evaluation in --format markdown to Adaline: a URL with
                             {promptId}, {runId} and {evaluatorId} placeholders
  --quiet                    no progress on stderr
  -h, --help                 this help
  -v, --version              the version

Files are relative to the working directory; their folders are created. They are written after
the report is printed; one that cannot be written is named on stderr and the exit status is 3.

Exit status: 0 gate passed or skipped, 1 gate failed, 2 bad option, 3 API or other error, or a
file that cannot be written, 4 some superseded evaluations could not be cancelled and may still
run (the report is printed, and stderr names them; this wins over 1), 130 / 143 stopped by
SIGINT / SIGTERM (after cancelling what the run started, and naming what it could not).
`

const OPTIONS = {
  'prompt-id': { type: 'string', multiple: true },
  'evaluator-id': { type: 'string' },
  'dataset-id': { type: 'string' },
  status: { type: 'string', multiple: true },
  'created-after': { type: 'string' },
  policy: { type: 'string' },
  'policy-file': { type: 'string' },
  'superseded-before': { type: 'string' },
  'cancel-superseded': { type: 'string' },
  'keep-run-ids': { type: 'string', multiple: true },
  'baseline-run-id': { type: 'string', multiple: true },
  start: { type: 'boolean' },
  wait: { type: 'string' },
  'cancel-on-abort': { type: 'string' },
  'dry-run': { type: 'boolean' },
  'fail-on-gate': { type: 'string' },
  'base-url': { type: 'string' },
  'max-requests-per-minute': { type: 'string' },
  format: { type: 'string' },
  junit: { type: 'string' },
  'report-file': { type: 'string' },
  'metrics-file': { type: 'string' },
  'evaluation-url': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' }
} as const

export type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values']

/** The flags given; throws (parseArgs's TypeError) on an unknown flag or a missing value. */
export function parseFlags(argv: string[]): Flags {
  return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values
}

/**
 * The action's inputs, by name, as the flags and the environment give them: the key from
 * ADALINE_API_KEY, the token from GITHUB_TOKEN, and the policy as read (from --policy-file, or
 * --policy). readSettings then checks them as it checks the action's.
 */
export function inputsFromFlags(
  values: Flags,
  env: NodeJS.ProcessEnv,
  policy: string
): Record<string, string | undefined> {
  return {
    'api-key': env.ADALINE_API_KEY ?? '',
    'github-token': env.GITHUB_TOKEN,
    'prompt-id': values['prompt-id']?.join('\n'),
    'evaluator-id': values['evaluator-id'],
    'dataset-id': values['dataset-id'],
    status: values.status?.join('\n'),
    'created-after': values['created-after'],
    policy,
    'cancel-superseded': values['cancel-superseded'],
    'keep-run-ids': values['keep-run-ids']?.join('\n'),
    'baseline-run-id': values['baseline-run-id']?.join('\n'),
    'dry-run': values['dry-run'] ? 'true' : '',
    'fail-on-gate': values['fail-on-gate'],
    'base-url': values['base-url'],
    start: values.start ? 'true' : '',
    wait: values.wait,
    'cancel-on-abort': values['cancel-on-abort'],
    'max-requests-per-minute': values['max-requests-per-minute'],
    'junit-file': values.junit,
    'report-file': values['report-file'],
    'metrics-file': values['metrics-file'],
    'evaluation-url': values['evaluation-url']
  }
}

/** The flag that gives an action input, where its name differs from the input's. */
const FLAG_OF_INPUT: Record<string, string> = { 'junit-file': 'junit' }

/** `--flag` for an action input, as the command's messages name it. */
export function flagOf(input: string): string {
  return `--${FLAG_OF_INPUT[input] ?? input}`
}

/**
 * How the command's messages name the inputs: the key and the token by their environment
 * variables, the rest by their flags; the policy by --policy-file when it came from a file.
 */
export function commandNaming(values: Flags): Naming {
  const named: Record<string, string> = {
    'api-key': 'ADALINE_API_KEY',
    'github-token': 'GITHUB_TOKEN',
    ...(values['policy-file'] !== undefined ? { policy: '--policy-file' } : {})
  }
  const nameOf = (input: string) => named[input] ?? flagOf(input)
  return {
    nameOf,
    withValue: (input, value) => `${nameOf(input)} ${value}`,
    verb: 'pass',
    keyRequired:
      'set the environment variable to a workspace API key, from a secret variable of your CI (it is never printed).',
    wholeKey: 'Set ADALINE_API_KEY to the whole key, from a secret variable of your CI'
  }
}
