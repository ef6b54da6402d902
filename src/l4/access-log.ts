/**
 * NLB access-log lines (spec 8.2): one per connection on a TLS listener, written when it ends,
 * fields in AWS's order and with AWS's placeholders (`-`), times as AWS's examples write them
 * (`2020-04-01T08:51:42`, UTC, whole seconds). TCP and UDP listeners have no access log.
 */

/** One connection on an NLB TLS listener, from accept to close: what the access log writes. */
export interface TlsConnectionRecord {
  readonly loadBalancer: string;
  /** The listener's resource ID (`listener-<index>` locally). */
  readonly listener: string;
  readonly client: { readonly ip: string; readonly port: number };
  /** The listener's address and port (a VPC endpoint's on AWS PrivateLink paths). */
  readonly destination: { readonly ip: string; readonly port: number };
  /** The target the flow went to; undefined when the handshake failed or no target was found. */
  readonly target: { readonly id: string; readonly port: number } | undefined;
  /** TCP accept, and close, on the load balancer's clock (epoch ms). */
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  /** From accept to the end of the client handshake; undefined when it never completed. */
  readonly tlsHandshakeMs: number | undefined;
  /** Decrypted bytes from the client, and bytes to the client before encryption. */
  readonly receivedBytes: number;
  readonly sentBytes: number;
  /** The alert the client sent (a TLS AlertDescription, e.g. 48 unknown_ca), if any. */
  readonly incomingTlsAlert: number | undefined;
  /** The certificate served (or SNI would serve); undefined when no valid ClientHello came. */
  readonly chosenCertArn: string | undefined;
  /** OpenSSL cipher name and Node's protocol name (`TLSv1.2`); undefined when the handshake did not complete. */
  readonly tlsCipher: string | undefined;
  readonly tlsProtocol: string | undefined;
  /** The SNI name from the ClientHello. */
  readonly domainName: string | undefined;
  readonly alpnFrontEnd: string | undefined;
  readonly alpnBackEnd: string | undefined;
  /** The client's ALPN list; undefined without an ALPN policy, a valid ClientHello or the extension (spec 8.2). */
  readonly alpnClientPreferenceList: readonly string[] | undefined;
  /** Why the connection ended without a flow (`client_tls_error`, `handshake_timeout`, `target_tls_error`, `no_target`…). */
  readonly failure?: string;
}

const dash = (v: string | undefined) => (v === undefined || v === '' ? '-' : v);

/** AWS's example form: `2020-04-01T08:51:42` (UTC, no fraction, no zone letter). */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/**
 * Percent-encodes every byte (the string holds bytes as latin1) outside RFC 3986's unreserved
 * set and `/`, which AWS's example leaves as it is (`"http/1.1"`); so `"` and `,` never clash
 * with the list's own quotes and commas.
 */
function urlEncodeBytes(latin1: string): string {
  let out = '';
  for (let i = 0; i < latin1.length; i++) {
    const ch = latin1[i]!;
    out += /[A-Za-z0-9\-._~/]/.test(ch) ? ch : `%${latin1.charCodeAt(i).toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `tlsv10` … `tlsv13` from Node's `TLSv1` … `TLSv1.3`. */
function protocolVersion(protocol: string | undefined): string {
  switch (protocol) {
    case 'TLSv1':
      return 'tlsv10';
    case 'TLSv1.1':
      return 'tlsv11';
    case 'TLSv1.2':
      return 'tlsv12';
    case 'TLSv1.3':
      return 'tlsv13';
    default:
      return '-';
  }
}

/** `"h2","http/1.1"`: each protocol URL-encoded in double quotes, truncated at 256 bytes (spec 8.2). */
function preferenceList(list: readonly string[] | undefined): string {
  if (list === undefined || list.length === 0) return '-';
  return list
    .map((p) => `"${urlEncodeBytes(p)}"`)
    .join(',')
    .slice(0, 256);
}

export function nlbAccessLogLine(r: TlsConnectionRecord, loadBalancerId = r.loadBalancer): string {
  return [
    'tls',
    '2.0',
    isoSeconds(r.endedAtMs),
    `net/${loadBalancerId}/local`,
    r.listener,
    `${r.client.ip}:${r.client.port}`,
    `${r.destination.ip}:${r.destination.port}`,
    String(Math.max(0, Math.round(r.endedAtMs - r.startedAtMs))),
    r.tlsHandshakeMs === undefined ? '-' : String(Math.max(0, Math.round(r.tlsHandshakeMs))),
    String(r.receivedBytes),
    String(r.sentBytes),
    r.incomingTlsAlert === undefined ? '-' : String(r.incomingTlsAlert),
    dash(r.chosenCertArn),
    '-', // chosen_cert_serial: always "-"
    dash(r.tlsCipher),
    protocolVersion(r.tlsProtocol),
    '-', // tls_named_group: always "-"
    r.domainName === undefined || r.domainName === '' ? '-' : urlEncodeBytes(r.domainName),
    dash(r.alpnFrontEnd),
    dash(r.alpnBackEnd),
    preferenceList(r.alpnClientPreferenceList),
    isoSeconds(r.startedAtMs),
  ].join(' ');
}
