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
