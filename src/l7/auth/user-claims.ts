/**
 * `x-amzn-oidc-data` (spec 13.2.6): the user's claims as a JWT the load balancer signs with
 * ES256, in ALB's format:
 *
 * - header `{"typ":"JWT","kid":…,"alg":"ES256","iss":…,"client":…,"signer":…,"exp":…}`
 *   (`kid` a UUID, `signer` the load balancer's ARN, `client` the action's client ID);
 * - payload: the user-info claims, with `exp` and `iss` added;
 * - each segment base64url **with its `=` padding kept**, the signature the 64-byte `r‖s`
 *   (JOSE) form over the padded segments exactly as sent.
 *
 * The key pair comes from jose; the token is put together here because jose (rightly) writes
 * unpadded segments, and ALB's are padded: a verifier that checks the signature over the
 * segments as received (aws-jwt-verify, or jose's own jwtVerify, whose decoder accepts the
 * padding) then sees what it sees behind a real ALB. The public key is served as ALB's
 * regional endpoint serves it: `GET <base>/<kid>` → PEM SubjectPublicKeyInfo.
 */
import { KeyObject, randomUUID, sign } from 'node:crypto';
import { exportSPKI, generateKeyPair } from 'jose';

export interface SigningKey {
  /** A UUID (aws-jwt-verify refuses any other kid). Made once per start: keys rotate only on restart. */
  readonly kid: string;
  readonly privateKey: KeyObject;
  /** `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo), what `GET <base>/<kid>` returns. */
  readonly publicKeyPem: string;
}

export async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid: randomUUID(), privateKey: KeyObject.from(privateKey), publicKeyPem: await exportSPKI(publicKey) };
}

/** base64url with the `=` padding kept, as ALB writes its segments. */
export function base64urlPadded(bytes: Buffer): string {
  return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export interface UserClaimsHeader {
  /** The identity provider's issuer. */
  readonly iss: string;
  /** The action's client ID. */
  readonly client: string;
  /** The signing load balancer's ARN. */
  readonly signer: string;
  /** Epoch seconds. */
  readonly exp: number;
}

/** The `x-amzn-oidc-data` value for `claims`. */
export function userClaimsToken(key: SigningKey, header: UserClaimsHeader, claims: Readonly<Record<string, unknown>>): string {
  const head = { typ: 'JWT', kid: key.kid, alg: 'ES256', iss: header.iss, client: header.client, signer: header.signer, exp: header.exp };
  const payload = { ...claims, exp: header.exp, iss: header.iss };
  const input = `${base64urlPadded(Buffer.from(JSON.stringify(head)))}.${base64urlPadded(Buffer.from(JSON.stringify(payload)))}`;
  const signature = sign('sha256', Buffer.from(input, 'latin1'), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${base64urlPadded(signature)}`;
}

/** The load balancer's ARN as the `signer` field carries it (region and account are the emulator's, as in its other ARNs). */
export function loadBalancerArn(name: string): string {
  return `arn:aws:elasticloadbalancing:local:000000000000:loadbalancer/app/${name}/local`;
}
