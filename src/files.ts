/**
 * Writes the report files both faces write (JUnit, JSON, metrics): each relative to the working
 * directory, its folder created, its text redacted first. A file that cannot be written is told
 * back with the input that named it, for the face to report its own way; the others are written.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'

export interface TextFile<Input extends string> {
  /** the input that asked for it, to name in a failure */
  input: Input
  /** as given, relative to the working directory */
  path: string
  text: string
}

export interface WriteFailure<Input extends string> {
  input: Input
  path: string
  /** why, in words, e.g. "a part of its path is a file, not a folder" */
  problem: string
}

/** Writes each file after `redact`ing its text; answers those that could not be written. */
export async function writeTextFiles<Input extends string>(
  files: readonly TextFile<Input>[],
  redact: (text: string) => string
): Promise<WriteFailure<Input>[]> {
  const failures: WriteFailure<Input>[] = []
  for (const { input, path, text } of files) {
    const target = resolve(path)
    try {
      await makeFolders(dirname(target))
      await writeFile(target, redact(text), 'utf8')
    } catch (error) {
      failures.push({ input, path, problem: describeWriteError(error) })
    }
  }
  return failures
}

/**
 * Creates `folder` and the folders above it that are missing, one level at a time. Not
 * mkdir's `recursive`: under a folder that refuses to hold a new one with ENOENT (/proc, /sys)
 * Node's recursive mkdir retries for ever, and the step would hang instead of failing.
 */
async function makeFolders(folder: string): Promise<void> {
  const missing: string[] = []
  for (let at = folder; ; at = dirname(at)) {
    try {
      if ((await stat(at)).isDirectory()) break
      throw Object.assign(new Error(`${at} is not a folder`), { code: 'ENOTDIR' })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(at) === at) throw error
      missing.push(at)
    }
  }
  for (const at of missing.reverse()) {
    try {
      await mkdir(at)
    } catch (error) {
      // made meanwhile by another step: as good
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
}

const BY_CODE: Record<string, string> = {
  // mkdir answers EEXIST when a folder on the path is a file
  EEXIST: 'a part of its path is a file, not a folder',
  ENOTDIR: 'a part of its path is a file, not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space is left on the device',
  EDQUOT: 'the disk quota is used up',
  ENAMETOOLONG: 'the path is too long',
  // a file or folder that a special file system (/proc, /sys) will not hold
  ENOENT: 'it cannot be created there'
}

/** A file system error in words, without the stack; the code where it has no words here. */
function describeWriteError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (code !== undefined && BY_CODE[code]) return `${BY_CODE[code]} (${code})`
  return error instanceof Error ? error.message : String(error)
}
