import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../core/errors.ts';
import { parseConfig, type Config } from '../config/schema.ts';

/**
 * Reads a YAML (or JSON) file into plain data; a missing file or a syntax error becomes a
 * ConfigError naming the file and the line. `hint` is appended to the cannot-read message.
 */
export async function readYamlFile(path: string, what = 'the file', hint = ''): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? String(err)}${hint}` }]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      path,
      doc.errors.map((e) => ({ path: e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '', message: e.message.split('\n')[0]! })),
    );
  }
  return doc.toJS();
}

/** Reads a YAML or JSON config file; every error names the file (and line, field path). */
export async function loadConfigFile(path: string): Promise<Config> {
  return parseConfig(relativeToFile(await readYamlFile(path), path), path);
}

/** Certificate and key paths in `certificates:` are relative to the config file, as a user expects. */
export function relativeToFile(data: unknown, path: string): unknown {
  const certificates = (data as { certificates?: unknown } | null)?.certificates;
  const trustStores = (data as { trustStores?: unknown } | null)?.trustStores;
  if (!Array.isArray(certificates) && !Array.isArray(trustStores)) return data;
  const dir = dirname(resolve(path));
  const place = (p: unknown) => (typeof p === 'string' && p !== '' && !isAbsolute(p) ? resolve(dir, p) : p);
  const isObject = (c: unknown): c is Record<string, unknown> => typeof c === 'object' && c !== null;
  return {
    ...(data as object),
    ...(Array.isArray(certificates)
      ? { certificates: certificates.map((c: unknown) => (isObject(c) ? { ...c, certificateFile: place(c.certificateFile), privateKeyFile: place(c.privateKeyFile) } : c)) }
      : {}),
    // Trust stores' bundle and CRL files too.
    ...(Array.isArray(trustStores)
      ? {
          trustStores: trustStores.map((t: unknown) =>
            isObject(t)
              ? { ...t, caCertificatesBundleFile: place(t.caCertificatesBundleFile), ...(Array.isArray(t.revocationFiles) ? { revocationFiles: t.revocationFiles.map(place) } : {}) }
              : t,
          ),
        }
      : {}),
  };
}
