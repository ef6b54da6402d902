/**
 * The dashboard page and its files, served by the admin API: `/` is the page (with the CSRF
 * token its actions send back), `/dashboard/*` the browser files of src/web and uPlot's, from
 * the package (no CDN, no build step). The page opens `/v1/events` and draws from it.
 */
import type { ServerResponse } from 'node:http';
import { escapeHtml, uplotAsset, webAsset } from '../../web/assets.ts';

const ASSETS: Readonly<Record<string, { readonly type: string; readonly text: () => string }>> = {
  '/dashboard/look.css': { type: 'text/css; charset=utf-8', text: () => webAsset('look.css') },
  '/dashboard/lanes.js': { type: 'text/javascript; charset=utf-8', text: () => webAsset('lanes.js') },
  '/dashboard/dashboard.js': { type: 'text/javascript; charset=utf-8', text: () => webAsset('dashboard.js') },
  '/dashboard/uPlot.iife.min.js': { type: 'text/javascript; charset=utf-8', text: () => uplotAsset('uPlot.iife.min.js') },
  '/dashboard/uPlot.min.css': { type: 'text/css; charset=utf-8', text: () => uplotAsset('uPlot.min.css') },
};

/** The dashboard's HTML. */
export function dashboardPage(options: { readonly csrfToken: string; readonly title?: string }): string {
  const title = options.title ?? 'local-elb dashboard';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${escapeHtml(options.csrfToken)}">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/dashboard/uPlot.min.css">
<link rel="stylesheet" href="/dashboard/look.css">
</head>
<body>
<header class="bar"><h1>local-elb</h1><span id="conn" class="conn down">connecting…</span><span id="clock" class="muted"></span></header>
<main>
<section id="load-balancers"><h2>Load balancers</h2><div id="lbs"></div></section>
<section id="target-groups"><h2>Target groups</h2><div id="tgs"></div></section>
<section id="local-pods" hidden><h2>Local pods</h2><div id="pods"></div></section>
<section id="timeline"><h2>Timeline</h2>
<div class="legend" id="legend"></div>
<div class="lanes" id="lanes"></div>
<h3>Events</h3><div class="events" id="events"></div></section>
</main>
<script src="/dashboard/uPlot.iife.min.js"></script>
<script src="/dashboard/lanes.js"></script>
<script src="/dashboard/dashboard.js"></script>
</body>
</html>
`;
}

/** Writes a dashboard file; false when `path` is none of them. */
export function serveAsset(path: string, res: ServerResponse): boolean {
  const asset = ASSETS[path];
  if (asset === undefined) return false;
  const body = asset.text();
  res.writeHead(200, { 'Content-Type': asset.type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache' });
  res.end(body);
  return true;
}
