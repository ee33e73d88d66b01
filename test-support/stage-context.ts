/**
 * A run's context for testing one stage over real HTTP against the fake API: the settings read
 * from inputs as the action reads them, and the log kept as lines (a warning prefixed `warning: `).
 */
import { readSettings } from '../src/inputs/settings.js'
import { ABORT_TRANSPORT } from '../src/run/abort.js'
import { createContext, type Log, type RunContext } from '../src/run/context.js'
import type { FakeAdaline } from './fake-adaline.js'

export async function stageContext(
  api: FakeAdaline,
  inputs: Record<string, string>
): Promise<{ context: RunContext; lines: string[] }> {
  const given: Record<string, string> = { 'api-key': api.apiKey, 'base-url': api.url, ...inputs }
  const settings = await readSettings(name => given[name] ?? '', {
    now: Date.now(),
    mask: () => undefined
  })
  const lines: string[] = []
  const log: Log = {
    info: message => void lines.push(message),
    warning: message => void lines.push(`warning: ${message}`),
    group: (_, work) => work()
  }
  return { context: createContext(settings, log, ABORT_TRANSPORT), lines }
}
