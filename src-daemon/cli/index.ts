// Entry of the `bulwark` command (bundled to out/main/cli.js; bin/bulwark.js
// runs it for every command but `bulwark daemon`). Exit codes: 0 ok, 1 the
// request failed, 2 usage error, 130 interrupted. See docs/cli.md.
import { runCli } from './main'
import { processStdin } from './stdin'

// A closed pipe (`bulwark list jobs | head -1`) is not an error worth a trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err
})

void runCli(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  isTTY: process.stdout.isTTY === true,
  env: process.env,
  stdin: processStdin(),
  onInterrupt(fn) {
    let pressed = false
    const handler = () => {
      if (pressed) process.exit(130)
      pressed = true
      fn()
    }
    process.on('SIGINT', handler)
    return () => void process.off('SIGINT', handler)
  },
}).then((code) => {
  process.exitCode = code
})
