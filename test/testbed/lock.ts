// A cross-process exclusive lock on a file, held by a `flock` child process.
//
// flock(1) takes the lock and prints "locked"; the lock is held until we close the
// child's stdin (or this process dies, which closes it too), so a crashed test can never
// leave a lock behind.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export async function withFileLock<T>(file: string, fn: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  mkdirSync(dirname(file), { recursive: true });
  const child = spawn('flock', ['-x', '-w', String(Math.ceil(timeoutMs / 1000)), file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('locked')) resolve();
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`could not lock ${file} (flock exited ${code}): ${stderr.trim()}`)));
  });
  try {
    return await fn();
  } finally {
    child.stdin.end();
    await exited;
  }
}
