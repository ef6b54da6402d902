/**
 * Trust store actions (spec 12.1.7, 14): create, describe, modify and delete trust stores, add,
 * describe and remove their revocations (CRLs), and which listeners use them. There is no S3
 * here: a bucket and key name the file `<s3Dir>/<bucket>/<key>` (s3Dir: the endpoint's option,
 * default `$LOCAL_ELB_S3_DIR`, else `s3/` in the state directory), read when the call is made,
 * as AWS copies the object then. A trust store is a `trustStores:` entry of the runtime's config
 * (its bundle file and CRL files), so the config file, the API and `local-elb export` agree.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { TrustStoreConfig } from '../config/schema.ts';
import { parseCaBundle, parseCrl, TrustStoreContentError, TRUST_STORE_LIMITS } from '../tls/trust-store.ts';
import { page, tagsOf, type Call, type Elbv2Api, type Handler, type Result } from './api.ts';
import type { TrustStoreRecord } from './catalog.ts';
import { Draft, type InputTrustStore } from './draft.ts';
import { ApiError } from './errors.ts';
import type { Members } from './query.ts';

/** Trust stores per account and region (spec 12.1.7's quota). */
export const MAX_TRUST_STORES = 20;

const NAME = /^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$/;

/** The local stand-in for an S3 object: `<s3Dir>/<bucket>/<key>`, never outside `s3Dir`. */
function s3Path(s3Dir: string, bucket: string, key: string, missing: 'CaCertificatesBundleNotFound' | 'RevocationContentNotFound'): string {
  const root = resolve(s3Dir);
  const path = resolve(root, bucket, key);
  const inside = relative(root, path);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) throw new ApiError(missing, `S3 object s3://${bucket}/${key} is outside the local S3 directory ${root}`);
  return path;
}

async function readS3(path: string, bucket: string, key: string, missing: 'CaCertificatesBundleNotFound' | 'RevocationContentNotFound'): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ApiError(missing, `S3 object s3://${bucket}/${key} not found (local-elb reads ${path}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** A TrustStoreContentError as the API's error of the same code. */
function contentError(err: unknown): never {
  if (err instanceof TrustStoreContentError) throw new ApiError(err.awsCode, err.message.replace(/^\w+: /, ''), { cause: err });
  throw err;
}

interface Entry {
  readonly config: TrustStoreConfig;
  readonly record: TrustStoreRecord;
}

function entries(api: Elbv2Api): Entry[] {
  return api.runtime.config.trustStores.map((config) => ({ config, record: api.catalog.trustStore(config) }));
}

/** The trust store an ARN names, or TrustStoreNotFound. */
export function trustStoreByArn(api: Elbv2Api, arn: string): Entry {
  const found = entries(api).find((e) => e.record.arn === arn);
  if (found === undefined) throw new ApiError('TrustStoreNotFound', `Trust store '${arn}' not found`);
  return found;
}

/** The listeners whose mutual TLS uses the store called `name` (their ARNs). */
function associations(api: Elbv2Api, name: string): string[] {
  return api
    .listeners()
    .filter((l) => l.config.mutualAuthentication?.trustStore === name)
    .map((l) => l.record.arn);
}

async function shape(api: Elbv2Api, entry: Entry): Promise<Result> {
  const store = await api.runtime.tls.trustStore(entry.config.name).catch(() => undefined);
  return {
    Name: entry.config.name,
    TrustStoreArn: entry.record.arn,
    Status: entry.record.status,
    NumberOfCaCertificates: store?.caCertificates.length ?? 0,
    TotalRevokedEntries: store?.revocations.reduce((n, r) => n + r.serials.size, 0) ?? 0,
  };
}

function bundleLocation(params: Members, s3Dir: string): { path: string; bucket: string; key: string } {
  const bucket = params.string('CaCertificatesBundleS3Bucket', { required: true });
  const key = params.string('CaCertificatesBundleS3Key', { required: true });
  return { path: s3Path(s3Dir, bucket, key, 'CaCertificatesBundleNotFound'), bucket, key };
}

/** Reads and checks a bundle the call names (InvalidCaCertificatesBundle naming the rule). */
async function checkedBundle(params: Members, s3Dir: string): Promise<{ path: string; certificates: readonly X509Certificate[] }> {
  const { path, bucket, key } = bundleLocation(params, s3Dir);
  const text = await readS3(path, bucket, key, 'CaCertificatesBundleNotFound');
  try {
    return { path, certificates: parseCaBundle(text, `s3://${bucket}/${key}`).certificates };
  } catch (err) {
    return contentError(err);
  }
}

/** The config entry of a record's revocations, files in ID order. */
function withRevocations(config: InputTrustStore, record: TrustStoreRecord): InputTrustStore {
  return { ...config, revocationFiles: record.revocations.map((r) => r.file) };
}

async function revocationShape(api: Elbv2Api, entry: Entry, id: number): Promise<Result> {
  const store = await api.runtime.tls.trustStore(entry.config.name).catch(() => undefined);
  const index = entry.record.revocations.findIndex((r) => r.id === id);
  return { TrustStoreArn: entry.record.arn, RevocationId: id, RevocationType: 'CRL', NumberOfRevokedEntries: store?.revocations[index]?.serials.size ?? 0 };
}

function revocationIds(params: Members, required: boolean): number[] | undefined {
  const raw = params.strings('RevocationIds', { required });
  return raw?.map((v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new ApiError('ValidationError', `RevocationIds: '${v}' is not a number`);
    return n;
  });
}

/** The handlers, reading S3 objects under `s3Dir`. */
export function trustStoreHandlers(options: { readonly s3Dir: string }): Record<string, Handler> {
  const { s3Dir } = options;
  return {
    async CreateTrustStore({ api, params, caller }: Call): Promise<Result> {
      const name = params.string('Name', { required: true, min: 1, max: 32, pattern: NAME });
      const tags = tagsOf(params);
      if (entries(api).some((e) => e.config.name === name)) throw new ApiError('DuplicateTrustStoreName', `A trust store with the name '${name}' already exists`);
      if (entries(api).length >= MAX_TRUST_STORES) throw new ApiError('TooManyTrustStores', `An account takes at most ${MAX_TRUST_STORES} trust stores`);
      const { path } = await checkedBundle(params, s3Dir);
      const draft = new Draft(api.runtime, api.catalog);
      draft.trustStores.push({ name, caCertificatesBundleFile: path, revocationFiles: [] });
      const record = api.catalog.newTrustStore(name, caller, path, tags);
      try {
        await draft.commit();
      } catch (err) {
        api.catalog.forgetTrustStore(name);
        throw err;
      }
      return { TrustStores: [await shape(api, { config: api.runtime.config.trustStores.find((t) => t.name === name)!, record })] };
    },

    async DescribeTrustStores({ api, params }: Call): Promise<Result> {
      const arns = params.strings('TrustStoreArns');
      const names = params.strings('Names');
      let found = entries(api);
      if (arns !== undefined && arns.length > 0) found = arns.map((arn) => trustStoreByArn(api, arn));
      if (names !== undefined && names.length > 0) {
        const missing = names.filter((n) => !found.some((e) => e.config.name === n));
        if (missing.length > 0) throw new ApiError('TrustStoreNotFound', `One or more trust stores not found: '${missing.join("', '")}'`);
        found = found.filter((e) => names.includes(e.config.name));
      }
      const { items, nextMarker } = page(found, params);
      const shapes = await Promise.all(items.map((e) => shape(api, e)));
      // As load balancers are `provisioning` once (spec 14.4.3), a store is CREATING until described.
      for (const e of items) e.record.status = 'ACTIVE';
      return { TrustStores: shapes, NextMarker: nextMarker };
    },

    async ModifyTrustStore({ api, params }: Call): Promise<Result> {
      const entry = trustStoreByArn(api, params.string('TrustStoreArn', { required: true }));
      const { path, certificates } = await checkedBundle(params, s3Dir);
      // The store's CRLs must still be signed by one of its CAs.
      for (const r of entry.record.revocations) {
        await parseCrl(await readFile(r.file, 'utf8'), r.file, certificates, r.id).catch(contentError);
      }
      const draft = new Draft(api.runtime, api.catalog);
      const input = draft.trustStores.find((t) => t.name === entry.config.name)!;
      input.caCertificatesBundleFile = path;
      entry.record.bundleFile = path;
      await draft.commit();
      return { TrustStores: [await shape(api, trustStoreByArn(api, entry.record.arn))] };
    },

    async DeleteTrustStore({ api, params }: Call): Promise<Result> {
      const entry = trustStoreByArn(api, params.string('TrustStoreArn', { required: true }));
      const users = associations(api, entry.config.name);
      if (users.length > 0) throw new ApiError('TrustStoreInUse', `Trust store '${entry.record.arn}' is in use by ${users.join(', ')}`);
      const draft = new Draft(api.runtime, api.catalog);
      draft.trustStores.splice(draft.trustStores.findIndex((t) => t.name === entry.config.name), 1);
      await draft.commit();
      api.catalog.forgetTrustStore(entry.config.name);
      return {};
    },

    async AddTrustStoreRevocations({ api, params }: Call): Promise<Result> {
      const entry = trustStoreByArn(api, params.string('TrustStoreArn', { required: true }));
      const contents = params.structures('RevocationContents') ?? [];
      const store = await api.runtime.tls.trustStore(entry.config.name);
      const added: Array<{ id: number; file: string }> = [];
      let entriesNow = store.revocations.reduce((n, r) => n + r.serials.size, 0);
      for (const c of contents) {
        const type = c.string('RevocationType') ?? 'CRL';
        if (type !== 'CRL') throw new ApiError('InvalidRevocationContent', `RevocationType '${type}' is not supported: use CRL`);
        const bucket = c.string('S3Bucket', { required: true });
        const key = c.string('S3Key', { required: true });
        const path = s3Path(s3Dir, bucket, key, 'RevocationContentNotFound');
        const id = entry.record.nextRevocationId + added.length;
        const crl = await parseCrl(await readS3(path, bucket, key, 'RevocationContentNotFound'), `s3://${bucket}/${key}`, store.caCertificates, id).catch(contentError);
        entriesNow += crl.serials.size;
        added.push({ id, file: path });
      }
      if (entry.record.revocations.length + added.length > TRUST_STORE_LIMITS.revocationFiles || entriesNow > TRUST_STORE_LIMITS.revocationEntries) {
        throw new ApiError('TooManyTrustStoreRevocationEntries', `A trust store takes at most ${TRUST_STORE_LIMITS.revocationFiles} CRLs and ${TRUST_STORE_LIMITS.revocationEntries} revoked entries`);
      }
      const draft = new Draft(api.runtime, api.catalog);
      const index = draft.trustStores.findIndex((t) => t.name === entry.config.name);
      const before = { revocations: entry.record.revocations, next: entry.record.nextRevocationId };
      entry.record.revocations = [...entry.record.revocations, ...added];
      entry.record.nextRevocationId += added.length;
      draft.trustStores[index] = withRevocations(draft.trustStores[index]!, entry.record);
      try {
        await draft.commit();
      } catch (err) {
        entry.record.revocations = before.revocations;
        entry.record.nextRevocationId = before.next;
        throw err;
      }
      const now = trustStoreByArn(api, entry.record.arn);
      return { TrustStoreRevocations: await Promise.all(added.map((a) => revocationShape(api, now, a.id))) };
    },

    async DescribeTrustStoreRevocations({ api, params }: Call): Promise<Result> {
      const entry = trustStoreByArn(api, params.string('TrustStoreArn', { required: true }));
      const ids = revocationIds(params, false);
      let listed = entry.record.revocations.map((r) => r.id);
      if (ids !== undefined && ids.length > 0) {
        const missing = ids.filter((id) => !listed.includes(id));
        if (missing.length > 0) throw new ApiError('RevocationIdNotFound', `Revocation IDs not found: ${missing.join(', ')}`);
        listed = ids;
      }
      const { items, nextMarker } = page(listed, params);
      return { TrustStoreRevocations: await Promise.all(items.map((id) => revocationShape(api, entry, id))), NextMarker: nextMarker };
    },

    async RemoveTrustStoreRevocations({ api, params }: Call): Promise<Result> {
      const entry = trustStoreByArn(api, params.string('TrustStoreArn', { required: true }));
      const ids = revocationIds(params, true)!;
      const missing = ids.filter((id) => !entry.record.revocations.some((r) => r.id === id));
      if (missing.length > 0) throw new ApiError('RevocationIdNotFound', `Revocation IDs not found: ${missing.join(', ')}`);
      const draft = new Draft(api.runtime, api.catalog);
      const index = draft.trustStores.findIndex((t) => t.name === entry.config.name);
      const before = entry.record.revocations;
      entry.record.revocations = before.filter((r) => !ids.includes(r.id));
      draft.trustStores[index] = withRevocations(draft.trustStores[index]!, entry.record);
      try {
        await draft.commit();
      } catch (err) {
        entry.record.revocations = before;
        throw err;
      }
      return {};
    },

    DescribeTrustStoreAssociations({ api, params }: Call): Result {
      const entry = trustStoreByArn(api, params.string('TrustStoreArn', { required: true }));
      const { items, nextMarker } = page(associations(api, entry.config.name), params);
      return { TrustStoreAssociations: items.map((ResourceArn) => ({ ResourceArn })), NextMarker: nextMarker };
    },

    GetTrustStoreCaCertificatesBundle({ api, params }: Call): Result {
      const entry = trustStoreByArn(api, params.string('TrustStoreArn', { required: true }));
      return { Location: `file://${entry.config.caCertificatesBundleFile}` };
    },

    GetTrustStoreRevocationContent({ api, params }: Call): Result {
      const entry = trustStoreByArn(api, params.string('TrustStoreArn', { required: true }));
      const id = params.integer('RevocationId', { required: true });
      const found = entry.record.revocations.find((r) => r.id === id);
      if (found === undefined) throw new ApiError('RevocationIdNotFound', `Revocation ID ${id} not found`);
      return { Location: `file://${found.file}` };
    },
  };
}

/** `<dir>/s3`: where bucket/key name files by default. */
export function defaultS3Dir(stateDir: string): string {
  return process.env.LOCAL_ELB_S3_DIR !== undefined && process.env.LOCAL_ELB_S3_DIR !== '' ? resolve(process.env.LOCAL_ELB_S3_DIR) : join(stateDir, 's3');
}
