// The layers of src/ and the one way imports run between them, checked by `npm run lint`:
//   faces (action/, cli/) → report/ → run/ → inputs/ → judge/ → adaline/, github/, secrets/, format.ts
// A layer may import from any layer below it, never from one above, type-only imports included.
// ARCHITECTURE.md says what each layer does.

const FACES = '^src/(action|cli)/'
const REPORT = '^src/report/'
const RUN = '^src/run/'
const INPUTS = '^src/inputs/'
const JUDGE = '^src/judge/'
const ADALINE = '^src/adaline/'
/**
 * the ground floor beside adaline/: what the event says, secrets, number and time formatting, and
 * the writer of the report files
 */
const GROUND = '^src/(github|secrets|types)/|^src/(format|files)\\.ts$'

const above = (...layers) => layers.join('|')

/** Modules that reach outside the process: the network, files, other processes, the runner. */
const IO = [
  // dependency-cruiser names node:fs "fs"; both forms are listed
  '^(node:)?(fs|fs/promises|http|https|http2|net|tls|dgram|dns|child_process|worker_threads)$',
  '^node-fetch$',
  '^https-proxy-agent$',
  '^@actions/',
  '^src/adaline/(http|body|client|governor)\\.ts$',
  '^src/github/(lookups|octokit|comment)\\.ts$',
  '^src/files\\.ts$'
].join('|')

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import loop hides which part comes first; break it by moving the shared part down.',
      from: {},
      to: { circular: true }
    },
    {
      name: 'faces-stand-apart',
      severity: 'error',
      comment: 'The action and the command share the engine, not each other.',
      from: { path: '^src/action/' },
      to: { path: '^src/cli/' }
    },
    {
      name: 'faces-stand-apart',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/action/' }
    },
    {
      name: 'report-imports-no-face',
      severity: 'error',
      comment:
        "A report is built from what a run produced; where it is written is the face's choice.",
      from: { path: REPORT },
      to: { path: FACES }
    },
    {
      name: 'run-imports-nothing-above',
      severity: 'error',
      comment:
        'A run never formats a report (its log lines may use format.ts) and never knows its face.',
      from: { path: RUN },
      to: { path: above(REPORT, FACES) }
    },
    {
      name: 'inputs-imports-nothing-above',
      severity: 'error',
      comment: 'Settings are read before anything runs.',
      from: { path: INPUTS },
      to: { path: above(RUN, REPORT, FACES) }
    },
    {
      name: 'judge-imports-nothing-above',
      severity: 'error',
      comment: 'judge/ decides on data it is given: it knows no settings, stage, report or face.',
      from: { path: JUDGE },
      to: { path: above(INPUTS, RUN, REPORT, FACES) }
    },
    {
      name: 'ground-floor-imports-nothing-above',
      severity: 'error',
      comment:
        'github/, secrets/, format.ts and files.ts serve every layer above and know none of them.',
      from: { path: GROUND },
      to: { path: above(JUDGE, INPUTS, RUN, REPORT, FACES) }
    },
    {
      name: 'adaline-stands-alone',
      severity: 'error',
      comment: 'The API layer knows only the API, the secrets it must not leak, and format.ts.',
      from: { path: ADALINE },
      to: { path: above('^src/github/', JUDGE, INPUTS, RUN, REPORT, FACES) }
    },
    {
      name: 'judge-and-report-do-no-io',
      severity: 'error',
      comment:
        'judge/ and report/ take data and return data, so they are tested without servers; a type-only import erases to nothing.',
      from: { path: above(JUDGE, REPORT) },
      to: { path: IO, dependencyTypesNot: ['type-only'] }
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module nothing imports is dead code, or an entry point this file does not know.',
      from: {
        orphan: true,
        pathNot: ['^src/action/index\\.ts$', '^src/cli/bin\\.ts$', '\\.d\\.ts$']
      },
      to: {}
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // keeps `import type` edges, so that the layer rules and the loop rule see them, and the I/O
    // rule can tell them apart
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types']
    }
  }
}
