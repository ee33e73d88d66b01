/**
 * The README is the front page: every input and output of action.yml has a row in its tables, it
 * stays short, and no relative link in it or in docs/ points nowhere.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { parse } from 'yaml'

const root = new URL('..', import.meta.url)
const action = parse(readFileSync(new URL('action.yml', root), 'utf8')) as {
  inputs: Record<string, unknown>
  outputs: Record<string, unknown>
}
const readme = readFileSync(new URL('README.md', root), 'utf8')
/** Words as `wc -w` counts them; past this, reference belongs in docs/. */
const README_MAX_WORDS = 3_000

/** The first-column names of the table under a `## heading`. */
function tableNames(heading: string): string[] {
  const section = readme.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? ''
  return section
    .split('\n')
    .filter(line => line.startsWith('| `'))
    .flatMap(line => [...line.split('|')[1]!.matchAll(/`([a-z-]+)`/g)].map(match => match[1]!))
}

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

/** The anchors a Markdown file's headings give, a repeated one numbered as GitHub numbers it. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const found = new Set<string>()
  for (const [, heading] of withoutCode(markdown).matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = slug(heading!)
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    found.add(count === 0 ? base : `${base}-${count}`)
  }
  return found
}

/** The text outside fenced code blocks, where a `](` is prose, not a link. */
function withoutCode(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '')
}

/** Every relative link target in a Markdown file: `[text](target)`, no scheme. */
function relativeLinks(markdown: string): string[] {
  return [...withoutCode(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map(match => match[1]!)
    .filter(target => !/^[a-z][a-z0-9+.-]*:/i.test(target))
}

/** The Markdown files a reader follows links between: the top-level pages and docs/. */
const pages = [
  ...readdirSync(root).filter(name => name.endsWith('.md')),
  ...readdirSync(new URL('docs/', root))
    .filter(name => name.endsWith('.md'))
    .map(name => `docs/${name}`)
]

/** The relative links of a page (a path from the root) that point to no file, or to no heading. */
function brokenLinks(page: string, text: string): string[] {
  const broken: string[] = []
  for (const target of relativeLinks(text)) {
    const [path, anchor] = target.split('#') as [string, string | undefined]
    const file = new URL(path, new URL(page, root))
    if (!existsSync(file)) {
      broken.push(`${page}: ${target} (no such file)`)
      continue
    }
    const headings = path === '' ? anchors(text) : anchors(readFileSync(file, 'utf8'))
    if (anchor && file.pathname.endsWith('.md') && !headings.has(decodeURIComponent(anchor)))
      broken.push(`${page}: ${target} (no such heading)`)
  }
  return broken
}

describe('README', () => {
  it('has a row for every input, and none that action.yml lacks', () => {
    expect(tableNames('Inputs').sort()).toEqual(Object.keys(action.inputs).sort())
  })

  it('has a row for every output, and none that action.yml lacks', () => {
    expect(tableNames('Outputs').sort()).toEqual(Object.keys(action.outputs).sort())
  })

  it(`is a front page of at most ${README_MAX_WORDS.toLocaleString('en-US')} words`, () => {
    expect(readme.split(/\s+/).filter(Boolean).length).toBeLessThanOrEqual(README_MAX_WORDS)
  })
})

describe('links between the pages', () => {
  it('finds a link to a missing file, and to a missing heading, and passes good ones', () => {
    const text = [
      '[policy](docs/policy.md) [baselines](docs/policy.md#baselines) [inputs](#inputs)',
      '[gone](docs/gone.md) [no heading](docs/policy.md#no-such-heading) [up](#nowhere)',
      '[web](https://example.com/x.md)',
      '```md',
      '[in code](docs/not-a-link.md)',
      '```',
      '## Inputs'
    ].join('\n')
    expect(brokenLinks('README.md', text)).toEqual([
      'README.md: docs/gone.md (no such file)',
      'README.md: docs/policy.md#no-such-heading (no such heading)',
      'README.md: #nowhere (no such heading)'
    ])
  })

  it('names headings as GitHub anchors them', () => {
    expect([
      ...anchors(
        '## Outside GitHub: the `adaline-evals` command\n## `max-requests-per-minute`\n## A\n## A'
      )
    ]).toEqual(['outside-github-the-adaline-evals-command', 'max-requests-per-minute', 'a', 'a-1'])
  })

  it.each(pages)('%s: every relative link points to a file and heading that exist', page => {
    expect(brokenLinks(page, readFileSync(new URL(page, root), 'utf8'))).toEqual([])
  })
})
