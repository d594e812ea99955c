// The kubeless target: Function objects that pass a schema of Kubeless's Function type, carrying each bundle as a
// base64 zip whose checksum matches and which loads the way Kubeless loads a function (require, call the export).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { FUNCTIONS, functionSpec } from '../../../lib/registry/functions';
import { MissingBundleError, readBundle, zipBundle } from '../../../scripts/deploy/bundles';
import { kubelessFunctionObject, MAX_FUNCTION_BYTES } from '../../../scripts/deploy/kubeless';
import { kubelessCronJobTrigger, kubelessFunction } from '../../../scripts/deploy/kubeless-schema';
import { generate } from '../../../scripts/deploy/targets';
import { placeholderDist, placeholderSource, testOptions } from './fixtures';

const dist = placeholderDist();
const options = testOptions({ distDir: dist });
const objects = generate('kubeless', options);
const functions = objects.filter((o) => o.kind === 'Function');

type Spec = {
  handler: string;
  function: string;
  checksum: string;
  'function-content-type': string;
  runtime: string;
  timeout: string;
  deployment: {
    spec: {
      template: {
        spec: {
          serviceAccountName: string;
          containers: Array<{ image?: string; env: Array<{ name: string; value?: string }> }>;
        };
      };
    };
  };
};
const specOf = (o: (typeof objects)[number]) => o.spec as Spec;

describe('kubeless Function objects', () => {
  it('one per function, each valid against the Function schema', () => {
    assert.deepEqual(functions.map((f) => f.metadata.name).sort(), FUNCTIONS.map((f) => f.name).sort());
    for (const fn of functions) {
      const result = kubelessFunction.safeParse(fn);
      assert.ok(result.success, `${fn.metadata.name}: ${result.success ? '' : result.error.message}`);
      assert.equal(fn.metadata.labels?.['created-by'], 'kubeless');
      assert.equal(fn.metadata.labels?.function, fn.metadata.name);
    }
  });

  it('handler is handler.<export>, content base64+zip, runtime and timeout as given', () => {
    for (const fn of functions) {
      const spec = functionSpec(fn.metadata.name);
      assert.equal(specOf(fn).handler, `handler.${spec.export}`);
      assert.equal(specOf(fn)['function-content-type'], 'base64+zip');
      assert.equal(specOf(fn).runtime, 'nodejs22');
      assert.equal(specOf(fn).timeout, '180');
    }
  });

  it('the zip decodes back to the bundle, its checksum matches, and the bundle loads the way Kubeless loads it', async () => {
    for (const fn of functions) {
      const spec = functionSpec(fn.metadata.name);
      const zip = Buffer.from(specOf(fn).function, 'base64');
      assert.equal(specOf(fn).checksum, `sha256:${createHash('sha256').update(zip).digest('hex')}`);
      const files = unzipSync(zip);
      assert.equal(Buffer.from(files['handler.js']!).toString(), placeholderSource(spec.name, spec.export));
      // Kubeless unzips into /kubeless and requires /kubeless/<MOD_NAME>.js, then calls module.exports[FUNC_HANDLER].
      const volume = mkdtempSync(join(tmpdir(), 'kubeless-volume-'));
      for (const [name, bytes] of Object.entries(files)) writeFileSync(join(volume, name), bytes);
      const module = createRequire(join(volume, 'x.js'))(join(volume, 'handler.js')) as Record<
        string,
        (e: unknown, c: unknown) => Promise<unknown>
      >;
      const result = await module[spec.export]!({ data: { hello: 1 } }, { 'function-name': spec.export });
      assert.deepEqual(result, { function: spec.name, data: { hello: 1 }, handler: spec.export });
    }
    const onCreate = unzipSync(
      Buffer.from(specOf(functions.find((f) => f.metadata.name === 'on-create')!).function, 'base64'),
    );
    assert.deepEqual(Object.keys(onCreate).sort(), ['handler.js', 'handler.js.LEGAL.txt']);
  });

  it('image source: the template runs the runtime image on the bundle in it, under the function ServiceAccount', () => {
    for (const fn of functions) {
      const pod = specOf(fn).deployment.spec.template.spec;
      assert.equal(pod.serviceAccountName, fn.metadata.name);
      assert.equal(pod.containers[0]!.image, options.image);
      const env = Object.fromEntries(pod.containers[0]!.env.map((e) => [e.name, e.value]));
      assert.equal(env.KUBELESS_INSTALL_VOLUME, `/app/dist/functions/${fn.metadata.name}`);
      assert.equal(env.WATCHED_NAMESPACE, 'apps,data');
      // Kubeless sets these itself from handler, timeout and runtime.
      for (const name of ['MOD_NAME', 'FUNC_HANDLER', 'FUNC_TIMEOUT', 'FUNC_PORT'])
        assert.equal(name in env, false, name);
    }
  });

  it('zip source: no image and no install volume, so Kubeless unpacks the zip into /kubeless for the registered runtime', () => {
    const zipMode = generate('kubeless', { ...options, kubelessSource: 'zip' }).filter((o) => o.kind === 'Function');
    for (const fn of zipMode) {
      const container = specOf(fn).deployment.spec.template.spec.containers[0]!;
      assert.equal(container.image, undefined);
      assert.equal(
        container.env.some((e) => e.name === 'KUBELESS_INSTALL_VOLUME'),
        false,
      );
      assert.ok(kubelessFunction.safeParse(fn).success);
    }
  });

  it('a CronJobTrigger calls periodic-sync on its registry schedule', () => {
    const triggers = objects.filter((o) => o.kind === 'CronJobTrigger');
    assert.equal(triggers.length, 1);
    assert.ok(kubelessCronJobTrigger.safeParse(triggers[0]).success);
    const spec = functionSpec('periodic-sync');
    assert.deepEqual(triggers[0]!.spec, {
      'function-name': 'periodic-sync',
      schedule: spec.trigger.type === 'schedule' ? spec.trigger.schedule : '',
    });
  });

  it('the bridge comes along (Kubeless cannot watch Kubernetes objects), with its own cron off', () => {
    const bridge = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'postgres-operator-bridge');
    assert.ok(bridge);
    const container = (
      bridge.spec as { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } }
    ).template.spec.containers[0]!;
    assert.equal(container.env.find((e) => e.name === 'PERIODIC_SYNC_SCHEDULE')?.value, 'off');
    assert.ok(objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'postgres-operator-bridge'));
  });

  it('the same bundles give byte-identical zips (fixed entry times)', () => {
    const bundle = readBundle(dist, functionSpec('on-update'));
    assert.deepEqual(zipBundle(bundle), zipBundle(bundle));
  });
});

describe('kubeless bundles', () => {
  it('without a build the target fails with a message saying to run npm run build', () => {
    const empty = mkdtempSync(join(tmpdir(), 'deploy-nodist-'));
    assert.throws(
      () => generate('kubeless', testOptions({ distDir: empty })),
      (error: Error) =>
        error instanceof MissingBundleError &&
        /functions\/on-create\/handler\.js does not exist/.test(error.message) &&
        error.message.includes('npm run build'),
    );
  });

  it('a bundle too large for a Kubeless ConfigMap is refused with its size', () => {
    const big = mkdtempSync(join(tmpdir(), 'deploy-big-'));
    mkdirSync(join(big, 'functions', 'on-create'), { recursive: true });
    // Incompressible bytes (a fixed xorshift sequence): 900 KB become about 1.2 MB of base64.
    const bytes = Buffer.alloc(900_000);
    let x = 2463534242;
    for (let i = 0; i < bytes.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      bytes[i] = x & 0xff;
    }
    writeFileSync(join(big, 'functions', 'on-create', 'handler.js'), bytes);
    assert.throws(
      () => kubelessFunctionObject(functionSpec('on-create'), readBundle(big, functionSpec('on-create')), options),
      new RegExp(`on-create is \\d+ bytes as base64, over the ${MAX_FUNCTION_BYTES} bytes`),
    );
  });
});

describe('kubeless Function schema', () => {
  const valid = functions[0]!;
  const withSpec = (patch: Record<string, unknown>) => ({ ...valid, spec: { ...(valid.spec as object), ...patch } });
  const problem = (object: unknown) => {
    const result = kubelessFunction.safeParse(object);
    return result.success ? undefined : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  };

  it('handler must split on "." into exactly two parts', () => {
    assert.match(
      problem(withSpec({ handler: 'handler.on.create' })) ?? '',
      /spec\.handler: handler must be <module>\.<export>/,
    );
    assert.match(problem(withSpec({ handler: 'handler' })) ?? '', /spec\.handler/);
    assert.match(problem(withSpec({ handler: '.onCreate' })) ?? '', /spec\.handler/);
  });

  it('content type, checksum, base64 body, runtime and timeout formats', () => {
    assert.match(problem(withSpec({ 'function-content-type': 'zip' })) ?? '', /function-content-type/);
    assert.equal(problem(withSpec({ 'function-content-type': 'base64+zip+deps' })), undefined);
    assert.match(problem(withSpec({ checksum: 'sha256:ABC' })) ?? '', /spec\.checksum/);
    assert.match(problem(withSpec({ checksum: `md5:${'0'.repeat(32)}` })) ?? '', /spec\.checksum/);
    assert.equal(problem(withSpec({ checksum: '' })), undefined);
    assert.match(problem(withSpec({ function: 'not base64!' })) ?? '', /spec\.function: function is not base64/);
    assert.match(problem(withSpec({ function: '' })) ?? '', /spec\.function/);
    assert.match(problem(withSpec({ runtime: 'Node JS' })) ?? '', /spec\.runtime/);
    assert.match(problem(withSpec({ timeout: 180 })) ?? '', /spec\.timeout/);
  });

  it('unknown spec fields and a wrong kind are refused', () => {
    assert.match(problem(withSpec({ handlers: 'x' })) ?? '', /handlers/);
    assert.match(problem({ ...valid, kind: 'Functions' }) ?? '', /kind/);
    assert.match(problem({ ...valid, metadata: { name: 'On_Create' } }) ?? '', /metadata\.name/);
  });
});
