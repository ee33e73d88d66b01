/** The start-up baseline: a one-line action that loads only @actions/core (bundled at bench time). */
import * as core from '@actions/core'

core.info('hello')
