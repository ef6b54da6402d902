/**
 * nginx from Debian as an independent target server. nginx cannot report a port it chose,
 * so a random high port is tried and another one on "Address already in use" (a retry, not
 * the listen-then-close race). nginx is taken to be up only when it has written its pid file,
 * which it does after binding every listener: a connection to the port could reach another
 * process that already holds it while this nginx fails to bind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPeer, requirePeer } from './peers.ts';
import { waitFor } from './wait.ts';

/** The nginx binary, or undefined when it is not installed (never throws; see `requireNginx`). */
export function nginxBinary(): string | undefined {
  return findPeer('nginx');
}

/** The nginx binary for a test file that needs it: undefined (skip) outside CI, throws under CI=true. */
export function requireNginx(): string | undefined {
  return requirePeer('nginx');
}

export interface NginxTarget {
  readonly port: number;
  readonly dir: string;
  /** What nginx has logged (warnings and errors, e.g. `broken header` for a bad PROXY header). */
  readonly stderr: string;
  close(): Promise<void>;
}

export interface NginxOptions {
  /** `listen 127.0.0.1:PORT proxy_protocol;`: every connection must start with a PROXY header. */
  readonly proxyProtocol?: boolean;
}

/** Starts nginx with `serverBlock` inside `server { listen 127.0.0.1:PORT; … }`. */
export async function startNginx(serverBlock: string, files: Record<string, string | Buffer> = {}, options: NginxOptions = {}): Promise<NginxTarget> {
  const bin = nginxBinary();
  if (bin === undefined) throw new Error('nginx is not installed (apt-get install nginx)');
  const dir = await mkdtemp(join(tmpdir(), 'local-elb-nginx-'));
  // nginx workers may run as another user: let them read the files it serves.
  await chmod(dir, 0o755);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content, { mode: 0o644 });
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    const conf = `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_timeout 75s;
  keepalive_requests 10000;
  server {
    listen 127.0.0.1:${port}${options.proxyProtocol ? ' proxy_protocol' : ''};
    root ${dir};
    ${serverBlock}
  }
}
`;
    await writeFile(join(dir, 'nginx.conf'), conf);
    const child: ChildProcess = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    // nginx writes its pid file after binding every listener (ngx_init_cycle, then
    // ngx_create_pidfile), so the file holding this child's pid means this nginx holds the port.
    const started = await waitFor(
      async () => {
        const pid = await readFile(join(dir, 'nginx.pid'), 'utf8').then(
          (text) => Number(text.trim()),
          () => undefined,
        );
        if (pid === child.pid) return 'up';
        if (child.exitCode !== null || child.signalCode !== null) return 'exited';
        return false;
      },
      { timeoutMs: 10_000, what: 'nginx to bind and write its pid file' },
    ).catch(async (err: unknown) => {
      child.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
      throw new Error(`${(err as Error).message}; nginx said: ${stderr}`);
    });
    if (started === 'up') {
      return {
        port,
        dir,
        get stderr() {
          return stderr;
        },
        close: async () => {
          child.kill('SIGTERM');
          await exited;
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    await exited;
    if (!/in use/i.test(stderr)) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start: ${stderr}`);
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error('nginx: no free port after 20 attempts');
}
