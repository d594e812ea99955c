// Build-time stand-in for @kubernetes/client-node's generated-code index (`dist/gen/index.js`) as its KubeConfig
// module (`dist/config.js`) imports it in the function bundles: that index re-exports every API model and API class
// (~340 KiB) for the two names config.js uses, `createConfiguration` and `ServerConfiguration` (in
// `makeApiClient`, which the operator's own client never calls). Both are re-exported from their own modules.
export { createConfiguration } from '@kubernetes/client-node/dist/gen/configuration.js';
export { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
