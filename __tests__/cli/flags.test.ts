/** The command's flags as the action's inputs: what readSettings then checks for both faces. */
import { HELP, inputsFromFlags, parseFlags } from '../../src/cli/flags.js'

describe('--evaluation-url', () => {
  it('gives the evaluation-url input, and --help names it', () => {
    const template = 'https://app.adaline.ai/prompts/{promptId}/evaluations/{runId}'
    const inputs = inputsFromFlags(
      parseFlags(['--prompt-id', 'p', '--evaluation-url', template]),
      {},
      ''
    )
    expect(inputs['evaluation-url']).toBe(template)
    expect(inputsFromFlags(parseFlags(['--prompt-id', 'p']), {}, '')['evaluation-url']).toBe(
      undefined
    )
    expect(HELP).toContain('--evaluation-url TEMPLATE')
  })
})

describe('--help', () => {
  it('fits 100 columns and names every flag the command takes', () => {
    const lines = HELP.split('\n')
    expect(lines.filter(line => line.length > 100)).toEqual([])
    const flags = [...HELP.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)].map(match => String(match[1]))
    for (const flag of flags) expect(() => parseFlags([flag, '--help'])).not.toThrow(/unknown/i)
    expect(flags).toEqual(expect.arrayContaining(['--prompt-id', '--baseline-run-id', '--junit']))
  })
})
