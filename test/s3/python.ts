// Python with boto3, for tests that drive boto3 as a real client.
import { execFile } from 'node:child_process'

let interpreter: string | undefined

/**
 * The first Python that has boto3 (`interpreter`): the one on PATH (which may be a version
 * manager's, without it), else Debian's, where `apt-get install python3-boto3` puts it.
 */
export async function python (script: string, args: string[]): Promise<string | undefined> {
  if (interpreter === undefined) {
    for (const candidate of ['python3', '/usr/bin/python3']) {
      if (await run(candidate, 'import boto3', []) !== undefined) {
        interpreter = candidate
        break
      }
    }
    if (interpreter === undefined) return undefined
  }
  return await run(interpreter, script, args)
}

/** Run Python; undefined when the interpreter or boto3 is missing. */
async function run (command: string, script: string, args: string[]): Promise<string | undefined> {
  return await new Promise(resolve => {
    execFile(command, ['-c', script, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err !== null) {
        if (/No module named 'boto3'|ENOENT/.test(`${stderr} ${err.message}`)) resolve(undefined)
        else resolve(`ERROR ${stderr || err.message}`)
        return
      }
      resolve(stdout)
    })
  })
}
