/** The entry point the runner starts (dist/index.js, bundled by ncc). */
import { run } from './main.js'

void run()
