/** The README is the user's manual: every input and output of action.yml has a row in its tables. */
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'

const root = new URL('..', import.meta.url)
const action = parse(readFileSync(new URL('action.yml', root), 'utf8')) as {
  inputs: Record<string, unknown>
  outputs: Record<string, unknown>
}
const readme = readFileSync(new URL('README.md', root), 'utf8')

/** The first-column names of the table under a `## heading`. */
function tableNames(heading: string): string[] {
  const section = readme.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? ''
  return section
    .split('\n')
    .filter(line => line.startsWith('| `'))
    .flatMap(line => [...line.split('|')[1]!.matchAll(/`([a-z-]+)`/g)].map(match => match[1]!))
}

describe('README', () => {
  it('has a row for every input, and none that action.yml lacks', () => {
    expect(tableNames('Inputs').sort()).toEqual(Object.keys(action.inputs).sort())
  })

  it('has a row for every output, and none that action.yml lacks', () => {
    expect(tableNames('Outputs').sort()).toEqual(Object.keys(action.outputs).sort())
  })
})
