import { Secrets, inertLines, inertLogLine } from '../src/redact.js'

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
