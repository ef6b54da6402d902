/**
 * Configs for the non-Node systems in the L4 bench: HAProxy in TCP mode as a proxy, and nginx
 * as the HTTP targets (a small body on `/`, a large file on `/bulk`), on plain listeners and on
 * `proxy_protocol` listeners for the Proxy Protocol v2 variants. One thread/worker each, on
 * sockets inherited from the parent (HAProxy `bind fd@N`, nginx's `NGINX` variable).
 */
import { TARGET_BODY } from '../l7/child.ts';
import { nginxCommon, nginxHttpCommon } from '../l7/external.ts';

/** HAProxy `mode tcp`, roundrobin, default buffers (no splicing); listens on inherited fd 3. */
export function haproxyTcpConfig(targetPorts: readonly number[], options: { readonly sendProxyV2: boolean }): string {
  return `global
  nbthread 1
  maxconn 4096

defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s

frontend bench
  bind fd@3
  default_backend targets

backend targets
  balance roundrobin
${targetPorts.map((port, i) => `  server t${i + 1} 127.0.0.1:${port}${options.sendProxyV2 ? ' send-proxy-v2' : ''}`).join('\n')}
`;
}

/**
 * nginx as targets: one server per port answering 200 with the target body on every path and
 * serving `bulkFile` on `/bulk` (sendfile). `proxyProtocolPorts` listen with `proxy_protocol`
 * and so expect a PROXY header (v1 or v2) before the request.
 */
export function nginxL4TargetsConfig(dir: string, plainPorts: readonly number[], proxyProtocolPorts: readonly number[], bulkFile: string): string {
  const server = (port: number, proxyProtocol: boolean) => `  server {
    listen 127.0.0.1:${port}${proxyProtocol ? ' proxy_protocol' : ''};
    location / { default_type text/plain; return 200 ${JSON.stringify(TARGET_BODY)}; }
    location = /bulk { default_type application/octet-stream; alias ${bulkFile}; }
  }`;
  return `${nginxCommon(dir)}
http {
${nginxHttpCommon(dir)}
  sendfile on;
  tcp_nopush on;
${[...plainPorts.map((p) => server(p, false)), ...proxyProtocolPorts.map((p) => server(p, true))].join('\n')}
}
`;
}
