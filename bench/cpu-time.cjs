// Preloaded into the action's process by bench/scaling.ts (NODE_OPTIONS=--require): prints the CPU
// time the process used, all its threads (garbage collection included), as it exits. CPU time,
// unlike wall time, hardly moves with what else the shared machine runs.
process.on('exit', () => {
  const { user, system } = process.cpuUsage()
  process.stderr.write(`\nbench-cpu-microseconds=${user + system}\n`)
})
