#!/usr/bin/env node
/** The `adaline-evals` command's entry point (dist/cli/index.js, bundled by ncc). */
import { main } from './cli.js'

process.exitCode = await main(
  process.argv.slice(2),
  process.env,
  text => process.stdout.write(text),
  text => process.stderr.write(text),
  { isTTY: process.stdout.isTTY === true, columns: process.stdout.columns }
)
