/** Row 6: the size of the committed bundle, dist/ (the action, the command and their licences). */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mebibytes, type Figure } from './table.js'

const DIST = fileURLToPath(new URL('../dist', import.meta.url))

export async function bundleFigure(): Promise<Figure> {
  const files = await readdir(DIST, { recursive: true, withFileTypes: true })
  let bytes = 0
  let count = 0
  for (const file of files) {
    if (!file.isFile()) continue
    bytes += (await stat(join(file.parentPath, file.name))).size
    count += 1
  }
  return {
    id: '6',
    what: 'bundle size, dist/ (sum of files)',
    measured: `${mebibytes(bytes)} in ${count} files`,
    goal: '—',
    gatesQuick: false
  }
}
