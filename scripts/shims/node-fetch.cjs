// Build-time stand-in for `node-fetch` in the function bundles: @kubernetes/client-node 1.x imports node-fetch
// (and through it whatwg-url and tr46, ~300 KiB) for API classes the functions never call; KubeConfig only uses
// `Headers`. Node >= 18 has WHATWG fetch built in, so the globals serve. Not used for the bridge, whose watches
// rely on node-fetch's Node-stream bodies. Every global is read when used, not when the bundle loads: the first
// read of `fetch`, `Headers`, `Request` or `Response` loads Node's fetch implementation (undici, with http2 and
// worker_threads), which a cold start needs none of (with pg loaded lazily too, ~30 ms CPU; bench/README.md).
'use strict';
const fetch = (...args) => globalThis.fetch(...args);
module.exports = fetch;
module.exports.default = fetch;
for (const name of ['Headers', 'Request', 'Response'])
  Object.defineProperty(module.exports, name, { enumerable: true, get: () => globalThis[name] });
module.exports.FetchError = class FetchError extends Error {};
module.exports.AbortError = class AbortError extends Error {};
