// Build-time stand-in for `yaml` in the function bundles, which only call `parse`: @kubernetes/client-node already
// bundles js-yaml (its kubeconfig loader), so reusing it saves ~117 KiB per bundle (runtime research §4,
// "Bundling"). Both parse YAML 1.2 documents to plain values; an empty document is `null` in both.
'use strict';
const jsYaml = require('js-yaml'); // eslint-disable-line @typescript-eslint/no-require-imports -- a CommonJS shim
exports.parse = (text) => jsYaml.load(text) ?? null;
