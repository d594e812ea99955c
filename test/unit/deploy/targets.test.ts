// The plain target, the command line, deterministic output, the cron call and the Dockerfile.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAllDocuments } from 'yaml';
import { FUNCTIONS, functionSpec } from '../../../lib/registry/functions';
import type { DesiredObject } from '../../../scripts/deploy/meta';
import { parseDeployArgs, repoRoot, UsageError } from '../../../scripts/deploy/options';
import { CRON_CALL_SCRIPT } from '../../../scripts/deploy/plain';
import { generate, render } from '../../../scripts/deploy/targets';
import { IMAGE_APP_DIR } from '../../../scripts/deploy/workloads';
import { allows, envOf, find, placeholderDist, podOf, testOptions, type PodSpec } from './fixtures';

describe('plain target, one process (the default)', () => {
  const options = testOptions();
  const objects = generate('plain', options);
  const deployment = find(objects, 'Deployment', 'postgres-operator-functions')!;

  it('one Deployment running every function and the bridge, no per-function objects or CronJob, the API Service', () => {
    assert.deepEqual(
      objects
        .filter((o) => ['Deployment', 'Service', 'CronJob'].includes(o.kind))
        .map((o) => `${o.kind}/${o.metadata.name}`),
      ['Service/operator-api', 'Deployment/postgres-operator-functions'],
    );
    // The operator API (the combined host answers it under /operator-api/) reaches the operator pod.
    const api = find(objects, 'Service', 'operator-api')!.spec as { selector: Record<string, string> };
    assert.deepEqual(api.selector, {
      'app.kubernetes.io/component': 'operator',
      'app.kubernetes.io/name': 'postgres-operator-functions',
    });
    for (const spec of FUNCTIONS) assert.equal(find(objects, 'ServiceAccount', spec.name), undefined, spec.name);
    const pod = podOf(deployment);
    assert.equal(pod.spec.serviceAccountName, 'postgres-operator-functions');
    const container = pod.spec.containers[0]!;
    // A heap limit: V8 collects sooner, so the peak follows what the operator keeps (OPERATOR_NODE_FLAGS).
    assert.deepEqual(container.command, ['node', '--max-old-space-size=384', '/app/dist/combined/combined.js']);
    const env = envOf(container);
    assert.equal(env.FUNC_PORT, '8080');
    assert.equal(env.FUNC_TIMEOUT, '180');
    assert.equal(env.BRIDGE_PORT, '8090');
    assert.equal(env.PERIODIC_SYNC_SCHEDULE, undefined, "the bridge's cron calls periodic-sync");
    assert.equal(env.WATCHED_NAMESPACE, 'apps,data');
    assert.deepEqual(container.readinessProbe, { httpGet: { path: '/healthz', port: 8090 }, periodSeconds: 10 });
    assert.equal(pod.metadata.annotations?.['prometheus.io/port'], '8080');
    assert.equal((deployment.spec as { strategy: { type: string } }).strategy.type, 'Recreate');
  });

  it('its ServiceAccount may do what every function and the bridge may, and no more than their union', () => {
    const account = 'pgo/postgres-operator-functions';
    const asks = [
      { verb: 'watch', group: 'acid.zalan.do', resource: 'postgresqls', namespace: 'data' },
      { verb: 'create', group: 'apps', resource: 'statefulsets', namespace: 'apps' },
      { verb: 'list', group: '', resource: 'nodes' },
    ];
    for (const ask of asks) assert.equal(allows(objects, account, ask), true, JSON.stringify(ask));
    assert.equal(allows(objects, account, { verb: 'list', group: '', resource: 'secrets', namespace: 'other' }), false);
    assert.equal(allows(objects, account, { verb: 'delete', group: '', resource: 'nodes' }), false);
  });
});

describe('plain target --per-function', () => {
  const options = testOptions({ perFunction: true });
  const objects = generate('plain', options);

  it('a Deployment per function running the host on its bundle, with its own ServiceAccount', () => {
    for (const spec of FUNCTIONS) {
      const deployment = find(objects, 'Deployment', spec.name);
      assert.ok(deployment, spec.name);
      const pod = podOf(deployment);
      assert.equal(pod.spec.serviceAccountName, spec.name);
      const container = pod.spec.containers[0]!;
      assert.equal(container.image, options.image);
      assert.equal(container.command, undefined, 'the image default command is the host');
      const env = envOf(container);
      assert.equal(env.MOD_NAME, 'handler');
      assert.equal(env.FUNC_HANDLER, spec.export);
      assert.equal(env.FUNC_PORT, '8080');
      assert.equal(env.FUNC_TIMEOUT, '180');
      assert.equal(env.KUBELESS_INSTALL_VOLUME, `/app/dist/functions/${spec.name}`);
      assert.equal(env.CONFIG_MAP_NAME, 'pgo/postgres-operator');
      assert.equal(env.WATCHED_NAMESPACE, 'apps,data');
      assert.deepEqual(container.livenessProbe, {
        httpGet: { path: '/healthz', port: 8080 },
        initialDelaySeconds: 3,
        periodSeconds: 30,
      });
      assert.equal(pod.metadata.annotations?.['prometheus.io/scrape'], 'true');
      assert.equal(pod.metadata.annotations?.['prometheus.io/port'], '8080');
      const service = find(objects, 'Service', spec.name)!;
      assert.deepEqual((service.spec as { ports: unknown[] }).ports, [
        { name: 'http-function-port', port: 8080, targetPort: 'http', protocol: 'TCP' },
      ]);
      assert.deepEqual(
        (service.spec as { selector: unknown }).selector,
        (deployment.spec as { selector: { matchLabels: unknown } }).selector.matchLabels,
      );
    }
  });

  it('the bridge runs dist/bridge/bridge.js and reaches the functions through their Services', () => {
    const bridge = find(objects, 'Deployment', 'postgres-operator-bridge')!;
    const container = podOf(bridge).spec.containers[0]!;
    assert.deepEqual(container.command, ['node', '/app/dist/bridge/bridge.js']);
    const env = envOf(container);
    assert.equal(env.BRIDGE_FUNCTION_URL_TEMPLATE, 'http://{name}.{namespace}.svc.cluster.local:8080/');
    assert.equal(env.PERIODIC_SYNC_SCHEDULE, 'off');
    assert.equal(podOf(bridge).spec.serviceAccountName, 'postgres-operator-bridge');
    assert.equal(
      allows(objects, 'pgo/postgres-operator-bridge', {
        verb: 'watch',
        group: 'acid.zalan.do',
        resource: 'postgresqls',
        namespace: 'data',
      }),
      true,
    );
  });

  it('a CronJob calls periodic-sync on the registry schedule in UTC, never overlapping', () => {
    const cron = objects.filter((o) => o.kind === 'CronJob');
    assert.equal(cron.length, 1);
    const spec = cron[0]!.spec as {
      schedule: string;
      timeZone: string;
      concurrencyPolicy: string;
      jobTemplate: { spec: { template: { spec: PodSpec } } };
    };
    const periodic = functionSpec('periodic-sync');
    assert.equal(spec.schedule, periodic.trigger.type === 'schedule' ? periodic.trigger.schedule : '');
    assert.equal(spec.timeZone, 'Etc/UTC');
    assert.equal(spec.concurrencyPolicy, 'Forbid');
    const env = envOf(spec.jobTemplate.spec.template.spec.containers[0]!);
    assert.equal(env.FUNCTION_URL, 'http://periodic-sync.pgo.svc.cluster.local:8080/');
  });

  it('the postgres-pod ClusterRole and the CRD ship; --no-crd leaves the CRD out', () => {
    assert.ok(find(objects, 'ClusterRole', 'postgres-pod'));
    assert.ok(find(objects, 'CustomResourceDefinition', 'postgresqls.acid.zalan.do'));
    assert.equal(
      generate('plain', testOptions({ includeCrd: false })).some((o) => o.kind === 'CustomResourceDefinition'),
      false,
    );
  });

  it('objects come in apply order: CRD and roles first, workloads next, event sources last', () => {
    const kinds = objects.map((o) => o.kind);
    assert.equal(kinds[0], 'CustomResourceDefinition');
    assert.ok(kinds.lastIndexOf('ServiceAccount') < kinds.indexOf('Deployment'));
    assert.ok(kinds.lastIndexOf('Deployment') < kinds.indexOf('CronJob'));
  });
});

describe('the cron call', () => {
  it('POSTs an empty JSON object with the Kubeless cron headers, and fails the Job on a 503', async () => {
    const requests: Array<{ method?: string; headers: http.IncomingHttpHeaders; body: string }> = [];
    let status = 200;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk));
      req.on('end', () => {
        requests.push({ method: req.method, headers: req.headers, body });
        res.statusCode = status;
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const run = () =>
      new Promise<number>((resolve) => {
        const child = spawn(process.execPath, ['-e', CRON_CALL_SCRIPT], {
          env: { ...process.env, POD_UID: 'a1b2c3', FUNCTION_URL: url, TIMEOUT_MS: '5000' },
          stdio: 'ignore',
        });
        child.on('close', (code) => resolve(code ?? 1));
      });
    try {
      assert.equal(await run(), 0);
      status = 503;
      assert.equal(await run(), 1);
    } finally {
      server.close();
    }
    const first = requests[0]!;
    assert.equal(first.method, 'POST');
    assert.equal(first.body, '{}');
    assert.equal(first.headers['content-type'], 'application/json');
    assert.equal(first.headers['event-id'], 'a1b2c3');
    assert.equal(first.headers['event-namespace'], 'cronjobtrigger.kubeless.io');
    assert.equal(first.headers['event-type'], 'application/json');
    assert.ok(!Number.isNaN(Date.parse(String(first.headers['event-time']))));
  });
});

describe('output', () => {
  it('two runs give byte-identical YAML for every target', () => {
    const dist = placeholderDist();
    for (const target of ['plain', 'knative', 'kubeless'] as const) {
      const options = testOptions({ distDir: dist });
      assert.equal(render(target, options), render(target, testOptions({ distDir: dist })), target);
    }
    const perFunction = testOptions({ perFunction: true });
    assert.equal(render('plain', perFunction), render('plain', testOptions({ perFunction: true })));
  });

  it('the YAML parses back to the generated objects under YAML 1.1 (as kubectl reads it) and 1.2, with no anchors', () => {
    const options = testOptions();
    for (const target of ['plain', 'knative'] as const) {
      const text = render(target, options);
      assert.equal(text.includes('&a'), false);
      for (const version of ['1.1', '1.2'] as const) {
        const documents = parseAllDocuments(text, { version }).map((d) => d.toJS() as DesiredObject);
        assert.deepEqual(documents, generate(target, options), `${target} as YAML ${version}`);
      }
    }
    // The bridge's PERIODIC_SYNC_SCHEDULE=off stays a string (YAML 1.1 reads a bare off as false).
    assert.match(render('plain', testOptions({ perFunction: true })), /name: PERIODIC_SYNC_SCHEDULE\n\s+value: "off"/);
  });

  it('the command prints --dry-run YAML; the kubeless target without a build exits 1 saying to run npm run build', () => {
    const cli = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, ['--import', 'tsx', `${repoRoot}scripts/deploy/index.ts`, ...args], {
        encoding: 'utf8',
        cwd: repoRoot,
        env: { ...process.env, ...env },
      });
    const common = [
      '--dry-run',
      '--namespace',
      'pgo',
      '--watched-namespace',
      'apps',
      '--watched-namespace',
      'data',
      '--image',
      'registry.example/postgres-operator-functions:test',
    ];
    const plain = cli(['plain', ...common]);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.stdout, render('plain', testOptions()));
    // Another process in another time zone zips the bundles to the same bytes.
    const dist = placeholderDist();
    const zipped = cli(['kubeless', ...common, '--dist', dist], { TZ: 'Pacific/Chatham' });
    assert.equal(zipped.status, 0, zipped.stderr);
    assert.equal(zipped.stdout, render('kubeless', testOptions({ distDir: dist })));
    const kubeless = cli(['kubeless', '--dry-run', '--dist', '/nonexistent/dist']);
    assert.equal(kubeless.status, 1);
    assert.match(kubeless.stderr, /handler\.js does not exist: .*run `npm run build` first/);
    const usage = cli(['plain', '--namespace', 'Bad_NS']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--namespace: "Bad_NS" is not a namespace name/);
  });
});

describe('parseDeployArgs', () => {
  it('defaults: namespace default, all namespaces watched, CRD included', () => {
    const { target, dryRun, options } = parseDeployArgs(['plain']);
    assert.equal(target, 'plain');
    assert.equal(dryRun, false);
    assert.equal(options.namespace, 'default');
    assert.equal(options.watchedNamespaces, '*');
    assert.deepEqual(options.configMap, { namespace: 'default', name: 'postgres-operator' });
    assert.equal(options.includeCrd, true);
    assert.equal(options.perFunction, false, 'one process');
    assert.equal(parseDeployArgs(['plain', '--per-function']).options.perFunction, true);
  });

  it('lists, config map location and overrides', () => {
    const { options } = parseDeployArgs([
      'knative',
      '--namespace',
      'pgo',
      '--watched-namespace',
      'b,a',
      '--watched-namespace',
      'a',
      '--config-map',
      'config/my-config',
      '--timeout',
      '60',
      '--no-crd',
      '--kubeless-source',
      'zip',
      '--knative-retry-after',
    ]);
    assert.deepEqual(options.watchedNamespaces, ['a', 'b']);
    assert.deepEqual(options.configMap, { namespace: 'config', name: 'my-config' });
    assert.equal(options.timeoutSeconds, 60);
    assert.equal(options.includeCrd, false);
    assert.equal(options.kubelessSource, 'zip');
    assert.equal(options.knativeRetryAfter, true);
    assert.equal(parseDeployArgs(['knative']).options.knativeRetryAfter, false);
  });

  it('bad input names the option and what is expected', () => {
    const error = (args: string[]) => assert.throws(() => parseDeployArgs(args), UsageError);
    error([]);
    error(['openfaas']);
    error(['plain', 'kubeless']);
    error(['plain', '--watched-namespace', '*,apps']);
    error(['plain', '--timeout', '0']);
    error(['plain', '--timeout', '1.5']);
    error(['plain', '--image-pull-policy', 'Sometimes']);
    error(['plain', '--kubeless-source', 'tar']);
    error(['plain', '--unknown']);
    assert.throws(
      () => parseDeployArgs(['plain', '--watched-namespace', 'UPPER']),
      /--watched-namespace: "UPPER" is not a namespace name/,
    );
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(`${repoRoot}Dockerfile`, 'utf8');

  it('node:22, the build output at the path the manifests use, the host as command, uid 1000', () => {
    assert.match(dockerfile, /^FROM node:22/m);
    assert.match(dockerfile, new RegExp(`^WORKDIR ${IMAGE_APP_DIR}$`, 'm'));
    assert.match(dockerfile, new RegExp(`^COPY --from=build /src/dist/ ${IMAGE_APP_DIR}/dist/$`, 'm'));
    assert.match(dockerfile, new RegExp(`^CMD \\["node", "${IMAGE_APP_DIR}/dist/host/host.js"\\]$`, 'm'));
    assert.match(dockerfile, /^USER 1000:1000$/m);
    assert.match(dockerfile, /NODE_OPTIONS=--enable-source-maps/);
    // The build writes what the manifests run.
    const build = readFileSync(`${repoRoot}scripts/build.ts`, 'utf8');
    for (const output of [
      'dist/host/host.js',
      'dist/bridge/bridge.js',
      'dist/functions/${f.name}/${BUNDLE_MODULE}.js',
    ]) {
      assert.ok(build.includes(output), output);
    }
  });

  it('.dockerignore keeps node_modules and local build output out of the context', () => {
    const ignored = readFileSync(`${repoRoot}.dockerignore`, 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.git', '.testenv']) assert.ok(ignored.includes(entry), entry);
  });
});
