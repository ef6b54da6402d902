/**
 * The files the project's HTML is made of (src/web/*.css, *.js: run in a browser, not in Node)
 * and uPlot's, read once from the package: the dashboard serves them, the harness's and the
 * lab's HTML reports inline them, so a report and the dashboard share one look. Nothing comes
 * from a CDN; everything works offline. `npm run build` copies these files beside dist/web.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The browser files of src/web. */
export type WebAsset = 'look.css' | 'lanes.js' | 'dashboard.js';

const cache = new Map<string, string>();

function cached(key: string, read: () => string): string {
  let text = cache.get(key);
  if (text === undefined) {
    text = read();
    cache.set(key, text);
  }
  return text;
}

/** The text of one of src/web's browser files. */
export function webAsset(name: WebAsset): string {
  return cached(name, () => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8'));
}

/** uPlot's browser build (it defines `window.uPlot`) and its stylesheet, from node_modules. */
export function uplotAsset(name: 'uPlot.iife.min.js' | 'uPlot.min.css'): string {
  return cached(name, () => readFileSync(createRequire(import.meta.url).resolve(`uplot/dist/${name}`), 'utf8'));
}

/** Text safe inside an HTML element or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JSON safe inside an inline `<script>` (no `</script>` or `<!--` can end it early). */
export function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
