/**
 * The UI's two files: the page (HTML with its style) and its script. The script is the bundle of
 * `lib/api/ui/app/main.ts` with Preact and htm that `scripts/build.ts` puts into the function bundle as the constant
 * `__UI_APP_JS__` (esbuild `define`); code run from source (tests) passes the script in (`scripts/ui-app.ts`).
 * Both are sent with a Content-Security-Policy that lets the page load only its own script and call only its own
 * origin.
 *
 * Source: MDN, Content-Security-Policy (`default-src 'self'`), `X-Content-Type-Options: nosniff`.
 */

declare const __UI_APP_JS__: string | undefined;

/** @returns the page script built into this bundle, or undefined when running from source */
export function builtAppScript(): string | undefined {
  return typeof __UI_APP_JS__ === 'string' ? __UI_APP_JS__ : undefined;
}

/** Headers of every UI file: no other origin, no inline script, no framing. */
export const UI_SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

/** The page: a mount point, the script (relative, so the function may be served under any path), the style. */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Postgres clusters</title>
<style>
:root { font-family: system-ui, sans-serif; font-size: 14px; color: #1d2430; background: #f5f6f8; }
body { margin: 0; }
header { display: flex; align-items: center; gap: 2rem; padding: .6rem 1.5rem; background: #23395d; color: #fff; }
header a, header .link { color: #fff; text-decoration: none; margin-right: 1rem; background: none; border: 0; font: inherit; cursor: pointer; }
.brand { font-weight: 600; font-size: 1.1rem; }
main { padding: 1rem 1.5rem; }
h1 { font-size: 1.4rem; margin: 0; } h2 { font-size: 1.1rem; margin: 1.2rem 0 .4rem; } h3 { font-size: 1rem; }
.toolbar { display: flex; align-items: center; gap: 1rem; margin-bottom: 1rem; flex-wrap: wrap; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e1e4e8; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
tr.warning td { background: #fff6e5; }
.badge { display: inline-block; padding: .1rem .5rem; border-radius: .8rem; font-size: .85rem; font-weight: 600; }
.badge.ok { background: #d8f3dc; color: #1b5e20; } .badge.bad { background: #fde2e1; color: #a4161a; }
.badge.busy { background: #fff1c2; color: #7a5200; }
.cond { font-size: .8rem; padding: 0 .3rem; border-radius: .3rem; background: #eef1f5; }
.cond.true { background: #e3f2fd; }
.rollout > * { margin-right: .4rem; }
.muted { color: #6a737d; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 1rem; }
.card { background: #fff; border: 1px solid #e1e4e8; border-radius: .4rem; padding: .8rem 1rem; }
.card h2 { margin-top: 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; } dt { color: #6a737d; } dd { margin: 0; }
form.create { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: .8rem 1.5rem; max-width: 60rem; }
form.create label, form.token { display: flex; flex-direction: column; gap: .3rem; }
form.token { max-width: 40rem; }
form.inline { display: flex; gap: .5rem; align-items: flex-end; flex-wrap: wrap; }
input, select, textarea { font: inherit; padding: .3rem .4rem; border: 1px solid #c8ccd1; border-radius: .3rem; }
button, .button { font: inherit; padding: .35rem .8rem; border-radius: .3rem; border: 1px solid #23395d; background: #23395d; color: #fff; cursor: pointer; text-decoration: none; }
button[type=button] { background: #fff; color: #23395d; }
button:disabled { opacity: .5; cursor: default; }
.outcome { color: #1b5e20; } .outcome.bad, .problems { color: #a4161a; }
pre { background: #fff; border: 1px solid #e1e4e8; padding: .6rem; overflow: auto; max-height: 24rem; }
.plan { flex-basis: 100%; }
.plan-actions { padding-left: 1.2rem; } .plan-actions ul { padding-left: 1rem; font-size: .9rem; }
</style>
</head>
<body>
<div id="app"></div>
<noscript>This page needs JavaScript.</noscript>
<script type="module" src="app.js"></script>
</body>
</html>
`;
