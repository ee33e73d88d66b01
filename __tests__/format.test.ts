import {
  escapeMarkdown,
  formatCost,
  formatDuration,
  formatTime,
  plainDecimal,
  plural,
  tidy
} from '../src/format.js'

describe('plural', () => {
  it.each([
    [0, '0 evaluations'],
    [1, '1 evaluation'],
    [2, '2 evaluations'],
    [12345, '12,345 evaluations']
  ])('counts %p as %s', (count, text) => {
    expect(plural(count, 'evaluation')).toBe(text)
  })

  it('takes the plural it is given where an s would be wrong', () => {
    expect(plural(1, 'request was', 'requests were')).toBe('1 request was')
    expect(plural(2, 'request was', 'requests were')).toBe('2 requests were')
  })
})

describe('plainDecimal', () => {
  it.each([
    [0, '0'],
    [42, '42'],
    [0.125, '0.125'],
    [1e-7, '0.0000001'],
    [1.5e-10, '0.00000000015'],
    [1e21, '1000000000000000000000'],
    [1.25e22, '12500000000000000000000'],
    [-3e-7, '-0.0000003']
  ])('writes %p as %s', (value, text) => {
    expect(plainDecimal(value)).toBe(text)
    expect(Number(plainDecimal(value))).toBe(value)
  })
})

describe('formatTime', () => {
  it.each([
    [0, '1970-01-01T00:00:00.000Z'],
    [8.64e15, '+275760-09-13T00:00:00.000Z'],
    [8.64e15 + 1, '8640000000000001 ms (outside the range of dates)'],
    [1e300, '1e+300 ms (outside the range of dates)'],
    [-Infinity, '-Infinity ms (outside the range of dates)'],
    [NaN, 'NaN ms (outside the range of dates)']
  ])('writes %p as %s, never throwing as toISOString does', (ms, text) => {
    expect(formatTime(ms)).toBe(text)
  })
})

describe('formatCost and formatDuration', () => {
  it('write real figures as people read them', () => {
    expect(formatCost(0)).toBe('$0')
    expect(formatCost(0.0042)).toBe('$0.0042')
    expect(formatCost(1234.5)).toBe('$1,234.50')
    expect(formatDuration(850)).toBe('850 ms')
    expect(formatDuration(7_200_000)).toBe('2.0 h')
  })

  it('write a figure no evaluation has (1e308) with an exponent, not 300 digits', () => {
    // a hostile answer's 1e308 cost was 400 characters in every table cell it reached
    expect(formatCost(1e308)).toBe('$1.00e+308')
    expect(formatCost(1e308, 2)).toBe('$1.0000e+308')
    expect(formatDuration(1e308)).toBe('2.78e+301 h')
    expect(formatCost(999_999_999_999)).toBe('$999,999,999,999.00')
    expect(formatDuration(3.6e18 - 3.6e6).length).toBeLessThan(30)
  })
})

describe('tidy', () => {
  it('drops floating-point noise from sums and leaves integers exact', () => {
    expect(tidy(0.1 + 0.2)).toBe(0.3)
    expect(tidy(9007199254740991)).toBe(9007199254740991)
  })
})

/** Whether escaped text holds anything Markdown or HTML would read as structure. */
function structural(escaped: string): RegExpMatchArray | null {
  return escaped.match(/[\\`*[\]|!~$<>"]|&(?!#\d+;)|(?<![a-z0-9])_|_(?![a-z0-9])|:\/\/|@/i)
}

describe('escapeMarkdown', () => {
  it('makes links, images, HTML, table breaks and emphasis inert', () => {
    const hostile =
      '<img src=x onerror=alert(1)> [click](https://evil.example) ![i](x) a|b **bold** _em_ `code` @team'
    const escaped = escapeMarkdown(hostile, 500)
    expect(structural(escaped)).toBeNull()
    expect(escaped).not.toContain('@team')
    expect(escaped).not.toContain('https://')
  })

  it('writes references, not backslash escapes, so text stays inert inside an HTML block', () => {
    // inside <details>…</summary> Markdown escapes are not applied: \<img would still be a tag
    expect(escapeMarkdown('<img src=x>')).toBe('&#60;img src=x&#62;')
    expect(escapeMarkdown('&#60;')).toBe('&#38;#60;')
  })

  it('breaks a www autolink after an underscore too, which GFM allows', () => {
    expect(escapeMarkdown('run_www.evil.example/login')).toBe('run_www&#46;evil.example/login')
  })

  it('breaks autolinks and mentions but keeps ordinary colons and dots', () => {
    expect(escapeMarkdown('see www.evil.example or a@b.example: ok.')).toBe(
      'see www&#46;evil.example or a&#64;b.example: ok.'
    )
  })

  it('drops C1 controls and bidi overrides, which could make text read otherwise than it is', () => {
    expect(escapeMarkdown('pass\u202e\u2066liaf\u2069\u0085\u009b31m ok')).toBe('pass liaf  ok')
  })

  it('removes escape sequences whole: an OSC 8 link or a colour leaves no text behind', () => {
    expect(
      escapeMarkdown(
        '\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007 \u001b[31mred\u001b[0m'
      )
    ).toBe('link red')
  })

  it('cuts by code point, never inside an emoji', () => {
    expect(escapeMarkdown('😀'.repeat(10), 5)).toBe('😀😀😀😀…')
  })

  it('keeps the text on one line and cuts it', () => {
    expect(escapeMarkdown('a\nb\r\nc')).toBe('a b c')
    expect(escapeMarkdown('x'.repeat(500), 10)).toBe('xxxxxxxxx…')
  })

  it('leaves plain identifiers readable, underscores between letters included', () => {
    expect(escapeMarkdown('run-0a1b2c3d4e5f6a7b8c9d')).toBe('run-0a1b2c3d4e5f6a7b8c9d')
    expect(escapeMarkdown('run_0a1b_2c3d')).toBe('run_0a1b_2c3d')
  })
})
