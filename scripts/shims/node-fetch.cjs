// Build-time stand-in for `node-fetch` in the function bundles: @kubernetes/client-node 1.x imports node-fetch
// (and through it whatwg-url and tr46, ~300 KiB) for API classes the functions never call; KubeConfig only uses
// `Headers`. Node >= 18 has WHATWG fetch built in, so the globals serve. Not used for the bridge, whose watches
// rely on node-fetch's Node-stream bodies.
'use strict';
module.exports = globalThis.fetch;
module.exports.default = globalThis.fetch;
module.exports.Headers = globalThis.Headers;
module.exports.Request = globalThis.Request;
module.exports.Response = globalThis.Response;
module.exports.FetchError = class FetchError extends Error {};
module.exports.AbortError = class AbortError extends Error {};
