/** The terminal report: the Markdown summary as a person reads it in a terminal. */
import { escapeMarkdown } from '../../src/format.js'
import { markdownForTerminal } from '../../src/report/terminal.js'

describe('markdownForTerminal', () => {
  it('gives back the text escapeMarkdown was given', () => {
    const text = '<b>|*_x_*|</b> & &#60; a@b www.c.d https://e `f` [g] ~h~ $i$ "j" \\'
    expect(markdownForTerminal(escapeMarkdown(text, 500))).toBe(text)
  })

  it('draws the mermaid pie, which a terminal cannot, as one bar', () => {
    const pie = [
      '```mermaid',
      'pie showData title Runs of the judged evaluations',
      '    "Pass" : 30',
      '    "Fail" : 8',
      '    "Unknown" : 2',
      '```'
    ].join('\n')
    expect(markdownForTerminal(`before\n\n${pie}\n\nafter`)).toBe(
      `before\n\nRuns: ${'█'.repeat(30)}${'▒'.repeat(8)}${'░'.repeat(2)}  █ pass 30 · ▒ fail 8 · ░ unknown 2\n\nafter`
    )
  })
})
