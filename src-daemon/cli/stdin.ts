// Reading secrets without argv: the first line of stdin (`--password-stdin`),
// or a prompt on the terminal with echo off. Prompts go to stderr, so stdout
// stays what the command prints.
import { CliError } from './errors'

/** Ctrl-C at a prompt: as a shell reports a command stopped by SIGINT. */
export const EXIT_PROMPT_INTERRUPTED = 130

export interface Stdin {
  /** stdin is a terminal: a password can be asked for with echo off. */
  isTTY: boolean
  /** The next line of stdin without its line end ('' at the end of the input). */
  readLine(): Promise<string>
  /** Asks on the terminal (the question on stderr) without echoing the answer. */
  askHidden(question: string): Promise<string>
}

/** For callers that give none (tests running the CLI in process): no input at all. */
export const NO_STDIN: Stdin = {
  isTTY: false,
  readLine: () => Promise.resolve(''),
  askHidden: () => Promise.reject(new CliError('cannot prompt: stdin is not a terminal')),
}

type Input = NodeJS.ReadStream & { setRawMode?: (raw: boolean) => unknown }

/** The process's stdin; it is only touched when a command reads a secret. */
export function processStdin(input: Input = process.stdin, echo = process.stderr): Stdin {
  let rest = ''
  let ended = false
  return {
    get isTTY() {
      return input.isTTY === true
    },

    readLine() {
      return new Promise<string>((resolve, reject) => {
        const take = (): boolean => {
          const nl = rest.indexOf('\n')
          if (nl < 0 && !ended) return false
          const line = nl < 0 ? rest : rest.slice(0, nl)
          rest = nl < 0 ? '' : rest.slice(nl + 1)
          cleanup()
          resolve(line.replace(/\r$/, ''))
          return true
        }
        const onData = (chunk: string) => {
          rest += chunk
          take()
        }
        const onEnd = () => {
          ended = true
          take()
        }
        const onError = (err: Error) => {
          cleanup()
          reject(new CliError(`cannot read stdin: ${err.message}`))
        }
        const cleanup = () => {
          input.off('data', onData)
          input.off('end', onEnd)
          input.off('error', onError)
          input.pause()
        }
        if (take()) return
        input.setEncoding('utf8')
        input.on('data', onData)
        input.once('end', onEnd)
        input.once('error', onError)
        input.resume()
      })
    },

    askHidden(question) {
      if (input.isTTY !== true || !input.setRawMode) {
        return Promise.reject(new CliError('cannot prompt: stdin is not a terminal'))
      }
      const setRaw = input.setRawMode.bind(input)
      // Echo goes off before the question is shown: input typed (or pasted)
      // the instant the question appears must not be echoed by the terminal.
      setRaw(true)
      echo.write(question)
      return new Promise<string>((resolve, reject) => {
        let value = ''
        const done = () => {
          input.off('data', onData)
          setRaw(false)
          input.pause()
          echo.write('\n')
        }
        const onData = (chunk: string) => {
          for (const ch of chunk) {
            if (ch === '\r' || ch === '\n' || (ch === '\u0004' && value === '')) {
              done()
              return resolve(value)
            }
            if (ch === '\u0003') {
              done()
              return reject(new CliError('interrupted', EXIT_PROMPT_INTERRUPTED))
            }
            if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('')
            else if (ch === '\u0015') value = ''
            else if (ch >= ' ') value += ch
          }
        }
        input.setEncoding('utf8')
        input.on('data', onData)
        input.resume()
      })
    },
  }
}
