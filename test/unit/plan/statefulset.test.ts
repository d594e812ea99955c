/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read and edit nested fields of built objects */
// planStatefulSet: which StatefulSet changes need pods recreated, a re-create, a volume resize, or are refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredObject } from '../../../lib/builders';
import type { OperatorConfig } from '../../../lib/model/config';
import {
  planStatefulSet,
  podOrdinal,
  podTemplateHash,
  recreateRelevant,
  type StatefulSetPlanOptions,
} from '../../../lib/plan/statefulset';
import { buildEdited, referenceConfig } from '../reference';
import { POD_TEMPLATE_HASH_ANNOTATION } from '../../../lib/model/annotations';

const MANAGER = 'postgres-operator-functions';
const options: StatefulSetPlanOptions = { lazySpiloUpgrade: false, fieldManager: MANAGER };

type Raw = Parameters<NonNullable<Parameters<typeof buildEdited>[2]>>[0];
const statefulSet = (
  edit: (raw: Raw) => void = () => {},
  config: OperatorConfig = referenceConfig('v2.0.1'),
): DesiredObject =>
  buildEdited('v2.0.1/minimal-postgres-manifest.yaml', config, edit).objects.find((o) => o.kind === 'StatefulSet')!;

/** The StatefulSet as the API server returns it after an apply of the planned one: defaults added, managedFields. */
function live(sts: DesiredObject, templateAnnotationKeys: string[] = []): DesiredObject {
  const copy = structuredClone(planStatefulSet(sts, undefined, options).desired) as DesiredObject & {
    spec: Record<string, any>;
  };
  copy.metadata = {
    ...copy.metadata,
    uid: 'u1',
    resourceVersion: '7',
    generation: 1,
    managedFields: [
      {
        manager: MANAGER,
        operation: 'Apply',
        fieldsV1: {
          'f:spec': {
            'f:template': {
              'f:metadata': {
                'f:annotations': Object.fromEntries(
                  [...templateAnnotationKeys, POD_TEMPLATE_HASH_ANNOTATION].map((k) => [`f:${k}`, {}]),
                ),
              },
            },
          },
        },
      },
    ],
  };
  copy.spec.revisionHistoryLimit = 10;
  copy.spec.template.spec.restartPolicy = 'Always';
  copy.spec.template.spec.containers[0].terminationMessagePath = '/dev/termination-log';
  copy.spec.volumeClaimTemplates[0].status = { phase: 'Pending' };
  return copy;
}

describe('planStatefulSet', () => {
  it('puts the hash of the pod template on the template; nothing to do for an unchanged StatefulSet', () => {
    const sts = statefulSet();
    const planned = planStatefulSet(sts, undefined, options);
    const annotations = (planned.desired.spec as any).template.metadata.annotations;
    assert.match(annotations[POD_TEMPLATE_HASH_ANNOTATION], /^[0-9a-f]{16}$/);
    assert.deepEqual(planStatefulSet(sts, live(sts), options), { desired: planned.desired, refusals: [] });
    assert.equal((sts.spec as any).template.metadata.annotations, undefined, 'the input is not changed');
  });

  it('a resource change needs a rolling update, with the field in the reason', () => {
    const before = statefulSet();
    const after = statefulSet((raw) => {
      raw.spec.resources = { requests: { cpu: '300m', memory: '100Mi' }, limits: { cpu: '1', memory: '500Mi' } };
    });
    const planned = planStatefulSet(after, live(before), options);
    assert.match(
      planned.rollingUpdate ?? '',
      /spec\.template\.spec\.containers\[0\]\.resources\.requests\.cpu: "100m" -> "300m"/,
    );
    assert.equal(planned.recreate, undefined);
  });

  it('a removed field (tolerations) is caught by the template hash', () => {
    const before = statefulSet((raw) => {
      raw.spec.tolerations = [{ key: 'a', operator: 'Exists' }];
    });
    const after = statefulSet();
    assert.equal(
      planStatefulSet(after, live(before), options).rollingUpdate,
      'spec.template: fields the pods no longer get are removed',
    );
  });

  it('Patroni settings in bootstrap.dcs do not need new pods; local PostgreSQL parameters do', () => {
    const before = statefulSet();
    const dcs = statefulSet((raw) => {
      raw.spec.postgresql = { version: '18', parameters: { max_connections: '300' } };
      raw.spec.patroni = { ttl: 50 };
    });
    assert.equal(planStatefulSet(dcs, live(before), options).rollingUpdate, undefined);
    const local = statefulSet((raw) => {
      raw.spec.postgresql = { version: '18', parameters: { shared_buffers: '1GB' } };
    });
    assert.match(planStatefulSet(local, live(before), options).rollingUpdate ?? '', /SPILO_CONFIGURATION|env\[\d+\]/);
    assert.equal(
      podTemplateHash((dcs.spec as any).template, false),
      podTemplateHash((before.spec as any).template, false),
    );
  });

  it('an image change needs a rolling update, except with enable_lazy_spilo_upgrade', () => {
    const before = statefulSet();
    const after = statefulSet((raw) => {
      raw.spec.dockerImage = 'example.com/spilo:2';
    });
    assert.match(planStatefulSet(after, live(before), options).rollingUpdate ?? '', /image/);
    const lazy = { ...options, lazySpiloUpgrade: true };
    const lazyLive = structuredClone(live(before));
    (lazyLive.spec as any).template.metadata.annotations[POD_TEMPLATE_HASH_ANNOTATION] = podTemplateHash(
      (before.spec as any).template,
      true,
    );
    assert.equal(planStatefulSet(after, lazyLive, lazy).rollingUpdate, undefined);
  });

  it('pod annotations are set on the pods and removed when the operator had set them, without a rolling update', () => {
    const before = statefulSet((raw) => {
      raw.spec.podAnnotations = { a: '1', b: '2' };
    });
    const observed = live(before, ['a', 'b']);
    (observed.spec as any).template.metadata.annotations['someone-else'] = 'x';
    const after = statefulSet((raw) => {
      raw.spec.podAnnotations = { a: '3' };
    });
    const planned = planStatefulSet(after, observed, options);
    assert.deepEqual(planned.podAnnotations, { set: { a: '3' }, remove: ['b'] });
    assert.equal(planned.rollingUpdate, undefined);
  });

  it('a larger volume is a resize and a re-create for the claim template; a smaller one is refused and kept', () => {
    const before = statefulSet((raw) => {
      raw.spec.volume = { size: '2Gi' };
    });
    const grown = planStatefulSet(
      statefulSet((raw) => {
        raw.spec.volume = { size: '5Gi' };
      }),
      live(before),
      options,
    );
    assert.deepEqual(grown.volumeResize, { from: '2Gi', to: '5Gi' });
    assert.match(grown.recreate ?? '', /volumeClaimTemplates/);
    assert.equal(grown.rollingUpdate, undefined);

    const shrunk = planStatefulSet(
      statefulSet((raw) => {
        raw.spec.volume = { size: '1Gi' };
      }),
      live(before),
      options,
    );
    assert.deepEqual(shrunk.refusals, [
      {
        reason: 'VolumeShrinkRefused',
        message: 'cannot shrink persistent volume: volume.size 1Gi is smaller than the current 2Gi; keeping 2Gi',
      },
    ]);
    assert.equal((shrunk.desired.spec as any).volumeClaimTemplates[0].spec.resources.requests.storage, '2Gi');
    assert.equal(shrunk.recreate, undefined);
    assert.equal(shrunk.volumeResize, undefined);
    assert.equal(
      planStatefulSet(
        statefulSet((raw) => {
          raw.spec.volume = { size: '2048Mi' };
        }),
        live(before),
        options,
      ).volumeResize,
      undefined,
      'the same amount written differently',
    );
  });

  it('selector, serviceName, podManagementPolicy and claim templates need a re-create', () => {
    const config = referenceConfig('v2.0.1');
    const before = statefulSet(undefined, config);
    const parallel = planStatefulSet(
      statefulSet(undefined, { ...config, pod_management_policy: 'parallel' }),
      live(before),
      options,
    );
    assert.match(parallel.recreate ?? '', /spec\.podManagementPolicy: "OrderedReady" -> "Parallel"/);
    const labels = planStatefulSet(
      statefulSet(undefined, { ...config, cluster_labels: { application: 'db' } }),
      live(before),
      options,
    );
    assert.match(labels.recreate ?? '', /^spec\.selector/);
    assert.ok(labels.rollingUpdate, 'the template labels changed too');
    const storageClass = planStatefulSet(
      statefulSet((raw) => {
        raw.spec.volume = { size: '1Gi', storageClass: 'fast' };
      }),
      live(before),
      options,
    );
    assert.match(storageClass.recreate ?? '', /volumeClaimTemplates/);
  });

  it('a StatefulSet another operator built is taken over without marking pods, every difference named', () => {
    const before = statefulSet((raw) => {
      raw.spec.resources = { requests: { cpu: '300m', memory: '100Mi' }, limits: { cpu: '1', memory: '500Mi' } };
    });
    // As another operator left it: no pod-template-hash, another initdb auth method, an env var of its own.
    const theirs = live(before) as DesiredObject & { spec: Record<string, any> };
    delete theirs.spec.template.metadata.annotations[POD_TEMPLATE_HASH_ANNOTATION];
    const spilo = theirs.spec.template.spec.containers[0].env.find((e: any) => e.name === 'SPILO_CONFIGURATION');
    spilo.value = spilo.value.replace(/"auth-host":"[^"]*"/, '"auth-host":"ident"');
    theirs.spec.template.spec.containers[0].env.push({ name: 'THEIRS_ONLY', value: '1' });

    const planned = planStatefulSet(statefulSet(), theirs, options);
    assert.equal(planned.rollingUpdate, undefined, 'a takeover never marks pods');
    const differences = planned.adoption?.differences ?? [];
    assert.equal(differences.length, 3, differences.join('\n'));
    assert.match(
      differences[0]!,
      /^spec\.template\.spec\.containers\.postgres\.env\.SPILO_CONFIGURATION\.bootstrap\.initdb\[\d\]\.auth-host: "ident" -> "/,
    );
    assert.equal(differences[1], 'spec.template.spec.containers.postgres.resources.requests.cpu: "300m" -> "100m"');
    assert.equal(differences[2], 'spec.template.spec.containers.postgres.env.THEIRS_ONLY: set -> absent');
    const ours = (planned.desired.spec as any).template.metadata.annotations[POD_TEMPLATE_HASH_ANNOTATION];
    assert.match(ours, /^[0-9a-f]{16}$/, 'the applied template carries our hash from now on');

    // Once our hash is on the template, a change asked for marks the pods as usual.
    const adopted = live(statefulSet());
    const changed = statefulSet((raw) => {
      raw.spec.dockerImage = 'example.com/spilo:2';
    });
    assert.equal(planStatefulSet(changed, adopted, options).adoption, undefined);
    assert.match(planStatefulSet(changed, adopted, options).rollingUpdate ?? '', /image/);
  });

  it('a taken-over StatefulSet whose template matches ours has no differences', () => {
    const theirs = live(statefulSet()) as DesiredObject & { spec: Record<string, any> };
    delete theirs.spec.template.metadata.annotations[POD_TEMPLATE_HASH_ANNOTATION];
    const planned = planStatefulSet(statefulSet(), theirs, options);
    assert.deepEqual(planned.adoption, { differences: [] });
    assert.equal(planned.rollingUpdate, undefined);
  });

  it('a StatefulSet being deleted is waited for and created again', () => {
    const sts = statefulSet();
    const terminating = live(sts);
    terminating.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
    const planned = planStatefulSet(sts, terminating, options);
    assert.equal(planned.awaitDeletion, true);
    assert.match(planned.recreate ?? '', /is being deleted/);
  });

  it('fewer replicas is a scale-down', () => {
    const before = statefulSet((raw) => {
      raw.spec.numberOfInstances = 3;
    });
    assert.deepEqual(
      planStatefulSet(
        statefulSet((raw) => {
          raw.spec.numberOfInstances = 1;
        }),
        live(before),
        options,
      ).scaleDown,
      { from: 3, to: 1 },
    );
    assert.equal(
      planStatefulSet(
        statefulSet((raw) => {
          raw.spec.numberOfInstances = 4;
        }),
        live(before),
        options,
      ).scaleDown,
      undefined,
    );
  });

  it('recreateRelevant leaves its input alone', () => {
    const template = (statefulSet().spec as any).template;
    const copy = structuredClone(template);
    recreateRelevant(template, true);
    assert.deepEqual(template, copy);
  });
});

describe('podOrdinal', () => {
  it('reads the ordinal of a StatefulSet pod', () => {
    assert.equal(podOrdinal('acid-a', 'acid-a-2'), 2);
    assert.equal(podOrdinal('acid-a', 'acid-a-repl'), undefined);
    assert.equal(podOrdinal('acid-a', 'acid-ab-1'), undefined);
  });
});
