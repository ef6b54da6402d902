// Builds the package for consumers outside this repository: Node refuses to strip types from
// files under node_modules, so the published entry points are the compiled dist/*.js. Runs
// tsc with tsconfig.build.json and copies the lab's built-in scenario files and the browser files of src/web beside them.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
cpSync(join(root, 'src/lab/scenarios'), join(root, 'dist/lab/scenarios'), { recursive: true });
// The browser files of the dashboard and the HTML reports (src/web/*.css, *.js), read at run time.
cpSync(join(root, 'src/web'), join(root, 'dist/web'), { recursive: true, filter: (path) => !path.endsWith('.ts') });
