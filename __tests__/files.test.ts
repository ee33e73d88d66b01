/** The report files' writer: folders created, text redacted, a failure named and the rest written. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeTextFiles } from '../src/files.js'
import { Secrets } from '../src/secrets/redact.js'

const KEY = 'adl_live_0123456789abcdef0123456789abcdef'
let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'adaline-evals-write-'))
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('writeTextFiles', () => {
  it("creates the file's folders and writes the text redacted", async () => {
    const secrets = new Secrets()
    secrets.add(KEY)
    const path = join(dir, 'a/b/c/report.json')
    const failures = await writeTextFiles(
      [{ input: 'report-file', path, text: `{"echo": "${KEY.toUpperCase()}"}\n` }],
      text => secrets.redact(text)
    )
    expect(failures).toEqual([])
    expect(readFileSync(path, 'utf8')).toBe('{"echo": "***"}\n')
  })

  it('replaces a file written before, whole', async () => {
    const path = join(dir, 'junit.xml')
    writeFileSync(path, 'x'.repeat(1_000))
    await writeTextFiles([{ input: 'junit-file', path, text: 'short' }], text => text)
    expect(readFileSync(path, 'utf8')).toBe('short')
  })

  it('names each file it cannot write by its input, in words, and writes the others', async () => {
    writeFileSync(join(dir, 'taken'), '')
    const failures = await writeTextFiles(
      [
        { input: 'junit-file', path: join(dir, 'taken/junit.xml'), text: 'x' },
        { input: 'report-file', path: join(dir, 'taken/deeper/report.json'), text: 'x' },
        { input: 'metrics-file', path: dir, text: 'x' },
        { input: 'metrics-file', path: join(dir, 'ok.txt'), text: 'written' }
      ],
      text => text
    )
    expect(failures).toEqual([
      {
        input: 'junit-file',
        path: join(dir, 'taken/junit.xml'),
        problem: 'a part of its path is a file, not a folder (ENOTDIR)'
      },
      {
        input: 'report-file',
        path: join(dir, 'taken/deeper/report.json'),
        problem: 'a part of its path is a file, not a folder (ENOTDIR)'
      },
      { input: 'metrics-file', path: dir, problem: 'it is a folder (EISDIR)' }
    ])
    expect(readFileSync(join(dir, 'ok.txt'), 'utf8')).toBe('written')
  })

  it('fails at once, not for ever, on a path a special file system will not hold', async () => {
    // Node's recursive mkdir retries /proc/x without end: the step hung until the runner killed it
    const started = Date.now()
    const failures = await writeTextFiles(
      [
        { input: 'report-file', path: '/proc/adaline-evals/report.json', text: 'x' },
        { input: 'junit-file', path: '/proc/junit.xml', text: 'x' }
      ],
      text => text
    )
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(failures).toEqual([
      {
        input: 'report-file',
        path: '/proc/adaline-evals/report.json',
        problem: 'it cannot be created there (ENOENT)'
      },
      {
        input: 'junit-file',
        path: '/proc/junit.xml',
        problem: 'it cannot be created there (ENOENT)'
      }
    ])
  })
})
