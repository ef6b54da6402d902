// `node --import ./test/support/local-elb-package.mjs file.ts`: resolves the package name
// 'local-elb' to this repository's src/index.ts, as an installed package resolves it to its
// dist/, so a snippet written for users (`from 'local-elb'`) runs here unchanged.
import { registerHooks } from 'node:module';

const entry = new URL('../../src/index.ts', import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    return specifier === 'local-elb' ? { url: entry, shortCircuit: true } : nextResolve(specifier, context);
  },
});
