/**
 * The config file of `local-elb kind --config <file>`: the certificates ACM would hold, as the
 * ARNs your Ingresses (`certificate-arn`) and Services (`aws-load-balancer-ssl-cert`) name,
 * mapped to PEM files (spec 12.1.1, 12.7); and `targetGroups:` and `loadBalancers:` made outside
 * the cluster (as Terraform would make them on AWS), which run beside the controller's and which
 * a TargetGroupBinding fills with a Service's endpoints (spec 15.3.6). The schema is the main
 * config file's (`local-elb serve`); paths are relative to the file. Every certificate is read
 * and checked here, so a wrong path or key is one error at startup naming the file and the entry.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, type ConfigIssue } from '../core/errors.ts';
import { parseConfig, type CertificateConfig, type Config } from '../config/schema.ts';
import { serverCertificate } from '../tls/certificates.ts';
import { loadTrustStore } from '../tls/trust-store.ts';
import { readYamlFile, relativeToFile } from './config-file.ts';

export interface KindConfig {
  /** ARNs → PEM files, with absolute paths. */
  readonly certificates: readonly CertificateConfig[];
  /** Trust stores (`mutual-authentication`'s `trustStore`, a LoadBalancerConfiguration's), files with absolute paths, checked. */
  readonly trustStores: Config['trustStores'];
  /** The file's load balancers and target groups (with its certificates), parsed: what runs beside the controller. */
  readonly elb: Config;
}

const FIELDS = ['certificates', 'trustStores', 'targetGroups', 'loadBalancers'];

/** Reads and checks a kind config file; every error is one ConfigError naming the file. */
export async function loadKindConfig(path: string): Promise<KindConfig> {
  const raw = (await readYamlFile(path, 'the kind config file')) ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(path, [{ path: '', message: `must be a mapping with certificates, trustStores, targetGroups or loadBalancers: got ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}` }]);
  }
  const unknown = Object.keys(raw).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0) {
    throw new ConfigError(
      path,
      unknown.map((k) => ({ path: k, message: `not a field of a kind config file (allowed: ${FIELDS.join(', ')}; Services and Ingresses come from the cluster)` })),
    );
  }
  const elb = parseConfig(relativeToFile(raw, path), path);
  const podIssues = elb.targetGroups.flatMap((tg, i) =>
    tg.pods === undefined ? [] : [{ path: `targetGroups[${i}].pods`, message: 'local pods are not run by local-elb kind: the cluster\'s pods are the targets (bind a Service with a TargetGroupBinding)' }],
  );
  if (podIssues.length > 0) throw new ConfigError(path, podIssues);
  const { certificates } = elb;
  const issues: ConfigIssue[] = [];
  await Promise.all(
    certificates.map(async (c, i) => {
      const read = async (field: 'certificateFile' | 'privateKeyFile') => {
        try {
          return await readFile(c[field], 'utf8');
        } catch (err) {
          issues.push({ path: `certificates[${i}].${field}`, message: `cannot read ${c[field]}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
          return undefined;
        }
      };
      const [cert, key] = await Promise.all([read('certificateFile'), read('privateKeyFile')]);
      if (cert === undefined || key === undefined) return;
      try {
        serverCertificate(c.certificateArn, cert, key, c.certificateFile);
      } catch (err) {
        issues.push({ path: `certificates[${i}]`, message: (err as Error).message });
      }
    }),
  );
  // Each trust store's bundle and CRLs are read and checked now (AWS's bundle rules), one error naming the entry.
  await Promise.all(
    elb.trustStores.map(async (t, i) => {
      try {
        await loadTrustStore(t, `trust store ${t.name}`);
      } catch (err) {
        issues.push({ path: `trustStores[${i}]`, message: (err as Error).message });
      }
    }),
  );
  if (issues.length > 0) throw new ConfigError(path, issues.sort((x, y) => x.path.localeCompare(y.path)));
  return { certificates, trustStores: elb.trustStores, elb };
}
