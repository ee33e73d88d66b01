import {
  LOG_LINE_LIMIT,
  Secrets,
  clipLine,
  encodedForms,
  inertLines,
  inertLogLine
} from '../../src/secrets/redact.js'
import { base64Blob, givesAway, transformedForms } from '../../test-support/key-forms.js'

describe('Secrets', () => {
  it('replaces every known secret, wherever it stands', () => {
    const secrets = new Secrets()
    secrets.add('adl_key_0123456789')
    secrets.add('ghs_token_abcdef')
    secrets.add('')
    expect(secrets.redact('a adl_key_0123456789 b ghs_token_abcdef cadl_key_0123456789')).toBe(
      'a *** b *** c***'
    )
  })
})

describe('Secrets, on the key in another form', () => {
  const KEY = 'adl_Live_7Qx9K2mP4vR8sT1wY6zB3nC5'
  const secrets = new Secrets()
  secrets.add(KEY)

  it.each(Object.entries(transformedForms(KEY)))('finds the key %s', (_, form) => {
    const text = `the API said: ${form} (request 42)`
    expect(givesAway(text, KEY)).toBe(true)
    const redacted = secrets.redact(text)
    expect(givesAway(redacted, KEY)).toBe(false)
    expect(redacted).toMatch(/^the API said: .*\*\*\*.* \(request 42\)$/)
  })

  it('finds base64 of the key at any alignment inside a longer blob, in either alphabet', () => {
    for (let before = 0; before < 6; before += 1) {
      for (let after = 0; after < 4; after += 1) {
        for (const alphabet of ['base64', 'base64url'] as const) {
          const blob = base64Blob(
            KEY,
            Buffer.alloc(before, 0xfb),
            Buffer.alloc(after, 0xff),
            alphabet
          )
          expect(givesAway(secrets.redact(`token=${blob}`), KEY)).toBe(false)
        }
      }
    }
  })

  it('finds any 8 characters of the key in a row, so that a key split over two fields is found', () => {
    const redacted = secrets.redactValue({
      code: KEY.slice(0, 12),
      message: `bad key: ${KEY.slice(12)}`
    })
    expect(redacted).toEqual({ code: '***', message: 'bad key: ***' })
    // 7 characters tell too little to be hidden: ordinary text stays readable
    expect(secrets.redact(`id ${KEY.slice(3, 10)} ok`)).toBe(`id ${KEY.slice(3, 10)} ok`)
  })

  it('finds the key behind escapes: %41, \\u0041, \\x41, &#65; and &#x41;', () => {
    const spell = (f: (code: number) => string) => [...KEY].map(c => f(c.charCodeAt(0))).join('')
    for (const escaped of [
      spell(c => `\\u${c.toString(16).padStart(4, '0')}`),
      spell(c => `\\x${c.toString(16)}`),
      spell(c => `&#${c};`),
      spell(c => `&#x${c.toString(16)};`),
      `${KEY.slice(0, 3)}%5f${KEY.slice(4)}`
    ]) {
      expect(secrets.redact(`<${escaped}>`)).toBe('<***>')
    }
  })

  it('replaces only the span that gives the key away, and leaves other text alone', () => {
    expect(secrets.redact(`a ${KEY.toUpperCase()} b ${KEY.slice(0, 9)} c`)).toBe('a *** b *** c')
    expect(secrets.redact('prompt p: page 2, 200 evaluation(s)')).toBe(
      'prompt p: page 2, 200 evaluation(s)'
    )
  })

  it('does not hide every run of one repeated character a secret happens to hold', () => {
    const withZeros = new Secrets()
    withZeros.add('ghs_faketoken000000000000')
    expect(withZeros.redact('run_00000000000000000001')).toBe('run_00000000000000000001')
    expect(withZeros.redact('x ghs_faketoken000000000000 y')).toBe('x *** y')
    const allZeros = new Secrets()
    allZeros.add('0000000000000000000000')
    expect(allZeros.redact('a 0000000000000000000000 b')).toBe('a *** b')
  })

  it('tells mightSpell of an answer that holds the key in another form', () => {
    expect(secrets.mightSpell(JSON.stringify({ message: KEY.toLowerCase() }))).toBe(true)
    expect(
      secrets.mightSpell(
        JSON.stringify({ message: transformedForms(KEY)['base64 in a blob, 1 byte off'] })
      )
    ).toBe(true)
    expect(secrets.mightSpell('{"message":"plain"}')).toBe(false)
  })
})

describe('encodedForms', () => {
  it('gives the forms the runner should mask too, each of which gives the key away', () => {
    const key = 'adl_Live_7Qx9K2mP4vR8sT1wY6zB3nC5'
    const forms = encodedForms(key)
    expect(forms).toEqual(
      expect.arrayContaining([
        key.toLowerCase(),
        key.toUpperCase(),
        '%61%64%6C%5F%4C%69%76%65%5F%37%51%78%39%4B%32%6D%50%34%76%52%38%73%54%31%77%59%36%7A%42%33%6E%43%35',
        // 33 bytes: three whole groups of 3, no character mixed with what follows
        Buffer.from(key).toString('base64')
      ])
    )
    expect(forms).not.toContain(key)
    for (const form of forms) expect(givesAway(form, key)).toBe(true)
  })
})

describe('clipLine', () => {
  it('cuts a line longer than the limit and says how much was left out', () => {
    const line = clipLine('x'.repeat(5_000_000))
    expect(line).toBe(`${'x'.repeat(LOG_LINE_LIMIT)}… (4,998,000 more characters not shown)`)
    expect(clipLine('short')).toBe('short')
  })

  it('never cuts a character in half', () => {
    const line = clipLine(`${'x'.repeat(9)}😀😀`, 10)
    expect(line).toBe(`${'x'.repeat(9)}… (4 more characters not shown)`)
  })
})

describe('Secrets, on parsed answers', () => {
  const secrets = new Secrets()
  secrets.add('adl_key_0123456789')

  it('redacts every string of an answer, keys included', () => {
    expect(
      secrets.redactValue({ a: ['x adl_key_0123456789', 1, null], adl_key_0123456789: { b: true } })
    ).toEqual({ a: ['x ***', 1, null], '***': { b: true } })
  })

  it('tells which JSON texts may spell the key, escaped or not', () => {
    const escaped = JSON.stringify('adl_key_0123456789').replace('_', '\\u005f')
    expect(JSON.parse(escaped)).toBe('adl_key_0123456789')
    expect(secrets.mightSpell(escaped)).toBe(true)
    expect(secrets.mightSpell('{"a":"adl_key_0123456789"}')).toBe(true)
    expect(secrets.mightSpell('{"a":"plain"}')).toBe(false)
  })
})

describe('inertLogLine', () => {
  it('folds line breaks so API text cannot start a line of its own', () => {
    expect(inertLogLine('run_1\n::error::x\r\ny\rz')).toBe('run_1 ⏎ ::error::x ⏎ y ⏎ z')
  })

  it('breaks a command at the start of the message and the old ##[ form anywhere', () => {
    const line = inertLogLine('  ::add-mask::x and ##[error]y')
    expect(line).toBe('  :\u200b:add-mask::x and #\u200b#[error]y')
    expect(line.trimStart().startsWith('::')).toBe(false)
    expect(line).not.toContain('##[')
  })

  it('counts NEL as the white space the runner trims before a command', () => {
    const line = inertLogLine('\u0085::warning::from the API')
    expect(line).toBe('\u0085:\u200b:warning::from the API')
  })

  it('leaves ordinary messages as they are', () => {
    expect(inertLogLine('prompt p: page 2, 200 evaluation(s), 400 so far')).toBe(
      'prompt p: page 2, 200 evaluation(s), 400 so far'
    )
  })
})

describe('inertLines', () => {
  it('keeps the lines and makes each one inert', () => {
    expect(inertLines('report\n::error::x\n  ::group::y\nok ##[error]z')).toBe(
      'report\n:\u200b:error::x\n  :\u200b:group::y\nok #\u200b#[error]z'
    )
  })
})
