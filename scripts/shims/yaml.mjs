// Build-time stand-in for `yaml` in the function bundles, which only call `parse`: @kubernetes/client-node already
// bundles js-yaml (its kubeconfig loader), so reusing it saves ~117 KiB per bundle (runtime research §4,
// "Bundling"). Both parse YAML 1.2 documents to plain values; an empty document is `null` in both. An ES module
// importing js-yaml as client-node does, so both resolve to the same file (js-yaml's ESM build): a `require` would
// take its CommonJS build, a second copy (~46 KiB).
import jsYaml from 'js-yaml';

export const parse = (text) => jsYaml.load(text) ?? null;
