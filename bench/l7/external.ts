/**
 * Configs for the non-Node systems in the L7 bench: HAProxy and nginx as proxies, and nginx as
 * targets. Each serves from one thread/worker in the foreground, like the single-threaded Node
 * proxies, and takes its listening sockets from the parent (HAProxy `bind fd@N`, nginx's
 * `NGINX` inherited sockets), so no port is ever guessed.
 */
import { TARGET_BODY } from './child.ts';

/** HAProxy in HTTP mode, roundrobin, keep-alive on both sides; listens on inherited fd 3. */
export function haproxyConfig(targetPorts: readonly number[]): string {
  return `global
  nbthread 1
  maxconn 4096

defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s

frontend bench
  bind fd@3
  default_backend targets

backend targets
  balance roundrobin
  http-reuse always
${targetPorts.map((port, i) => `  server t${i + 1} 127.0.0.1:${port}`).join('\n')}
`;
}

/**
 * The top of every bench nginx config: foreground, one worker under a master. nginx 1.22
 * crashes (SIGSEGV) with `master_process off` and inherited sockets, and the master is what
 * turns SIGTERM into a clean worker shutdown.
 */
export function nginxCommon(dir: string): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
`;
}

/** Inside `http {}`: no access log, long keep-alive, temp paths under `dir`. */
export function nginxHttpCommon(dir: string): string {
  return `  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
`;
}

/** nginx as a proxy: round robin upstream with a keep-alive pool; listens on `port` (inherited). */
export function nginxProxyConfig(dir: string, port: number, targetPorts: readonly number[]): string {
  return `${nginxCommon(dir)}
http {
${nginxHttpCommon(dir)}
  upstream targets {
${targetPorts.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://targets;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/** nginx as targets: one server per port, every path answers 200 with the target body. */
export function nginxTargetsConfig(dir: string, ports: readonly number[]): string {
  return `${nginxCommon(dir)}
http {
${nginxHttpCommon(dir)}
${ports
  .map(
    (p) => `  server {
    listen 127.0.0.1:${p};
    location / { default_type text/plain; return 200 ${JSON.stringify(TARGET_BODY)}; }
  }`,
  )
  .join('\n')}
}
`;
}

/** nginx's way of handing it already-open sockets: `NGINX="3;4;5;"`. */
export function nginxInheritedEnv(fdCount: number): string {
  return Array.from({ length: fdCount }, (_, i) => `${i + 3};`).join('');
}
