/**
 * `npm run validate:action`: checks action.yml and .github/workflows/*.yml offline against the
 * schemas GitHub's own parser uses (@actions/workflow-parser, the parser behind the Actions
 * language service), and checks every `uses: ./` step's `with:` against action.yml's inputs.
 *
 *   npx tsx scripts/validate-actions.ts [file ...]
 *
 * Without arguments it checks action.yml and every workflow. Exits 1 naming each problem.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  NoOperationTraceWriter,
  parseWorkflow,
  type TemplateParseResult
} from '@actions/workflow-parser'
import { parseAction } from '@actions/workflow-parser/actions/action-parser'
import { convertWorkflowTemplate } from '@actions/workflow-parser/model/convert'
import { parse } from 'yaml'

const WORKFLOWS = '.github/workflows'
const ACTION = 'action.yml'

function defaultFiles(): string[] {
  const workflows = existsSync(WORKFLOWS)
    ? readdirSync(WORKFLOWS)
        .filter(name => /\.ya?ml$/.test(name))
        .sort()
        .map(name => join(WORKFLOWS, name))
    : []
  return [ACTION, ...workflows]
}

const errorsOf = (result: TemplateParseResult): string[] =>
  result.context.errors.getErrors().map(error => error.message)

const isAction = (file: string) => /(^|\/)action\.ya?ml$/.test(file)

/** This repository's inputs: every one, and the required ones. */
function actionInputs(): { all: Set<string>; required: string[] } {
  const inputs = (parse(readFileSync(ACTION, 'utf8')) as { inputs?: object }).inputs ?? {}
  const entries = Object.entries(inputs) as [string, { required?: boolean } | null][]
  return {
    all: new Set(entries.map(([name]) => name)),
    required: entries.filter(([, input]) => input?.required === true).map(([name]) => name)
  }
}

interface LocalStep {
  uses?: unknown
  id?: unknown
  name?: unknown
  with?: Record<string, unknown>
}

/** `uses: ./` steps that pass an input action.yml lacks, or leave out a required one. */
function localActionProblems(file: string, content: string): string[] {
  const workflow = parse(content) as { jobs?: Record<string, { steps?: LocalStep[] }> }
  const steps = Object.entries(workflow.jobs ?? {})
    .flatMap(([jobId, job]) => (job.steps ?? []).map((step, index) => ({ jobId, step, index })))
    .filter(({ step }) => step.uses === './')
  if (steps.length === 0) return []

  const inputs = actionInputs()
  return steps.flatMap(({ jobId, step, index }) => {
    const where = `${file}: job ${jobId}, step ${String(step.id ?? step.name ?? index + 1)}`
    const given = Object.keys(step.with ?? {})
    return [
      ...given
        .filter(name => !inputs.all.has(name))
        .map(name => `${where}: input '${name}' is not in ${ACTION}`),
      ...inputs.required
        .filter(name => !given.includes(name))
        .map(name => `${where}: required input '${name}' is missing`)
    ]
  })
}

async function validate(file: string): Promise<string[]> {
  const content = readFileSync(file, 'utf8')
  const trace = new NoOperationTraceWriter()
  if (isAction(file)) return errorsOf(parseAction({ name: file, content }, trace))

  const result = parseWorkflow({ name: file, content }, trace)
  // The conversion adds the checks the schema cannot express (job needs, matrix, ...).
  if (result.value) await convertWorkflowTemplate(result.context, result.value)
  const errors = errorsOf(result)
  return errors.length > 0 ? errors : localActionProblems(file, content)
}

const files = process.argv.length > 2 ? process.argv.slice(2) : defaultFiles()
let failed = false
for (const file of files) {
  const problems = await validate(file)
  if (problems.length === 0) {
    console.log(`ok    ${file}`)
    continue
  }
  failed = true
  console.error(`FAIL  ${file}`)
  for (const problem of problems) console.error(`  ${problem}`)
}
if (failed) process.exitCode = 1
