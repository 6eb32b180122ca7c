// A pull store on the test bed: a real nginx (Debian's package, on THIS machine) serving
// a directory over HTTP on the bed's bridge address, read-only except WebDAV PUT under
// reports/ (what pulling hosts write their reports with). See README.md, "An HTTP store".
//
// The server part of the config (STORE_SERVER_BLOCK) is the one docs/pull.md shows as
// "a tested setup: nginx as the store"; a test checks the two are the same text.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCommand } from './run.js';
import { SUBNET } from './testbed.js';

/**
 * nginx's `server` block for a depc store: everything is read-only (GET/HEAD: nginx's static
 * handler answers other methods with 405), except PUT of one file under /reports/. `@ROOT@`
 * and `@LISTEN@` are filled in. `latest` and reports change in place: no caching of them.
 */
export const STORE_SERVER_BLOCK = `server {
    listen @LISTEN@;
    root @ROOT@;
    autoindex off;

    # Bundles and signed manifests: immutable, read-only.
    location / {
        limit_except GET { deny all; }
    }

    # The current serial: changes on every publish.
    location = /latest {
        limit_except GET { deny all; }
        default_type text/plain;
        add_header Cache-Control "no-cache";
    }

    # Hosts' reports: PUT of one file per host, no other write method.
    location /reports/ {
        limit_except GET PUT { deny all; }
        dav_methods PUT;
        create_full_put_path on;
        dav_access user:rw group:r all:r;
        client_max_body_size 4k;
        add_header Cache-Control "no-cache";
    }
}
`;

export interface HttpStore {
  /** `http://10.213.77.1:PORT/`: the store URL for an agent's config (ends in `/`). */
  readonly url: string;
  /** The directory served (the store root `depc publish --to` writes). */
  readonly root: string;
  readonly port: number;
  /** The nginx master's pid. */
  readonly pid: number;
  /** nginx's prefix dir: nginx.conf, access.log, error.log, temp dirs. */
  readonly prefix: string;
  /** The requests so far (nginx's access log: `METHOD PATH STATUS` per line). */
  accessLog(): string;
  errorLog(): string;
  /** Idempotent: nginx stopped (SIGQUIT, then SIGKILL), its prefix dir removed. */
  stop(): Promise<void>;
}

/** Free TCP port on `address` (the kernel's choice; nginx binds it right after). */
function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, address, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function storeConfig(root: string, listen: string, prefix: string): string {
  const server = STORE_SERVER_BLOCK.replace('@LISTEN@', listen).replace('@ROOT@', root);
  // Process-level settings are this harness's, not the doc's: everything under PREFIX, in the
  // foreground. Workers run as root here only because the store lives under a test's private
  // (0700) temp dir; a real site runs them as www-data and gives that user reports/.
  return `daemon off;
master_process on;
worker_processes 1;
user root root;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log info;
events { worker_connections 256; }
http {
    log_format store '$request_method $uri $status';
    access_log ${prefix}/access.log store;
    client_body_temp_path ${prefix}/body;
    proxy_temp_path ${prefix}/proxy;
    fastcgi_temp_path ${prefix}/fastcgi;
    uwsgi_temp_path ${prefix}/uwsgi;
    scgi_temp_path ${prefix}/scgi;
    default_type application/octet-stream;
    sendfile on;
${server.replace(/^/gm, '    ').replace(/\s+$/, '')}
}
`;
}


/**
 * Start nginx serving `root` on `address` (default: the bed's bridge address, so a test
 * bed must be running) at a free port. Waits until it answers. The nginx master is a child
 * of a small `sh` that stops it when this process's pipe to it closes: no nginx is left
 * behind when the test process dies, even by SIGKILL.
 */
export async function startHttpStore(root: string, opts: { address?: string } = {}): Promise<HttpStore> {
  if (!haveCommand('nginx') && !existsSync('/usr/sbin/nginx')) {
    throw new Error('the test bed\'s HTTP store needs nginx on this machine: apt-get install -y nginx');
  }
  const nginx = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
  const address = opts.address ?? `${SUBNET}.1`;
  mkdirSync(root, { recursive: true });
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const prefix = mkdtempSync(join(process.env.TMPDIR || tmpdir(), 'depc-nginx-store-'));
    const port = await freePort(address);
    const conf = join(prefix, 'nginx.conf');
    writeFileSync(conf, storeConfig(root, `${address}:${port}`, prefix));
    // The guard: nginx in the background, `read` blocks until our end of stdin closes, then
    // SIGQUIT (graceful: workers too), SIGKILL if it lingers, and PREFIX ("$3") removed.
    const guard =
      '"$@" & pid=$!; trap \'kill -QUIT $pid 2>/dev/null; wait $pid; exit 0\' TERM; ' +
      'read -r _ ; kill -QUIT $pid 2>/dev/null; i=0; ' +
      'while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; kill -KILL $pid 2>/dev/null; wait $pid; rm -rf -- "$3"';
    // Its own process group (guard, nginx master and worker): the last resort of stop() kills
    // the group. At this process's exit the pipe closes and the guard stops nginx by itself;
    // the guard is never killed alone (its nginx would live on as an orphan).
    const child = spawn('sh', ['-c', guard, 'store-guard', nginx, '-p', prefix, '-c', conf], { stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const ready = await waitForPort(address, port, exited, 10_000);
    const errorLog = () => (existsSync(join(prefix, 'error.log')) ? readFileSync(join(prefix, 'error.log'), 'utf8') : '');
    if (!ready) {
      lastError = `${stderr}${errorLog()}`.trim();
      child.stdin!.end();
      await exited;
      rmSync(prefix, { recursive: true, force: true });
      if (/Address already in use/.test(lastError)) continue; // lost the port race: another one
      break;
    }
    // nginx writes its pid file right after it opens its sockets: wait for it too.
    for (let i = 0; i < 100 && !existsSync(join(prefix, 'nginx.pid')); i++) await new Promise((r) => setTimeout(r, 50));
    const pid = Number(readFileSync(join(prefix, 'nginx.pid'), 'utf8').trim());
    let stopped = false;
    return {
      url: `http://${address}:${port}/`,
      root,
      port,
      pid,
      prefix,
      accessLog: () => (existsSync(join(prefix, 'access.log')) ? readFileSync(join(prefix, 'access.log'), 'utf8') : ''),
      errorLog,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        child.stdin!.end();
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) {
          // The guard did not finish in time: its whole process group (guard, nginx master, worker).
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        rmSync(prefix, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`nginx (the test bed's HTTP store) did not start:\n${lastError}`);
}

/** true once something accepts connections on address:port; false if `exited` first or on timeout. */
async function waitForPort(address: string, port: number, exited: Promise<void>, timeoutMs: number): Promise<boolean> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (!gone && Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.connect(port, address);
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
