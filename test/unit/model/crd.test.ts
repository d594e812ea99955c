// The generated CRD: committed file up to date, Zalando's names and columns, structural schema.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { postgresqlCrd } from '../../../lib/model/crd';
import { renderCrdYaml } from '../../../lib/model/crd-yaml';
import { REPO_ROOT } from '../reference';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const crd = postgresqlCrd() as Json;
const version = crd.spec.versions[0] as Json;
const spec = version.schema.openAPIV3Schema.properties.spec as Json;

describe('postgresql CRD', () => {
  it('manifests/postgresql.crd.yaml is what renderCrdYaml() gives', () => {
    const committed = readFileSync(`${REPO_ROOT}manifests/postgresql.crd.yaml`, 'utf8');
    assert.ok(
      committed === renderCrdYaml(),
      'manifests/postgresql.crd.yaml is out of date: run `npm run crd` and commit it',
    );
  });

  it('the committed YAML parses back to the CRD object', () => {
    assert.deepEqual(parse(renderCrdYaml()), crd);
  });

  it('is deterministic', () => {
    assert.equal(JSON.stringify(postgresqlCrd()), JSON.stringify(crd));
  });

  it('has Zalando names: postgresqls.acid.zalan.do, shortName pg, category all', () => {
    assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
    assert.equal(crd.metadata.name, 'postgresqls.acid.zalan.do');
    assert.equal(crd.spec.group, 'acid.zalan.do');
    assert.equal(crd.spec.scope, 'Namespaced');
    assert.deepEqual(crd.spec.names, {
      kind: 'postgresql',
      listKind: 'postgresqlList',
      plural: 'postgresqls',
      singular: 'postgresql',
      shortNames: ['pg'],
      categories: ['all'],
    });
    assert.equal(version.name, 'v1');
    assert.equal(version.served, true);
    assert.equal(version.storage, true);
  });

  it('has the status subresource', () => {
    assert.deepEqual(version.subresources, { status: {} });
  });

  it('has the 8 printer columns of Zalando', () => {
    const columns = version.additionalPrinterColumns as Json[];
    assert.deepEqual(
      columns.map((c) => c.name),
      ['Team', 'Version', 'Pods', 'Volume', 'CPU-Request', 'Memory-Request', 'Age', 'Status'],
    );
    const byName = Object.fromEntries(columns.map((c) => [c.name, c]));
    assert.equal(byName.Team?.jsonPath, '.spec.teamId');
    assert.equal(byName.Version?.jsonPath, '.spec.postgresql.version');
    assert.equal(byName.Pods?.jsonPath, '.spec.numberOfInstances');
    assert.equal(byName.Pods?.type, 'integer');
    assert.equal(byName.Volume?.jsonPath, '.spec.volume.size');
    assert.equal(byName['CPU-Request']?.jsonPath, '.spec.resources.requests.cpu');
    assert.equal(byName['Memory-Request']?.jsonPath, '.spec.resources.requests.memory');
    assert.equal(byName.Age?.type, 'date');
    assert.equal(byName.Age?.jsonPath, '.metadata.creationTimestamp');
    assert.equal(byName.Status?.jsonPath, '.status.PostgresClusterStatus');
  });

  it('requires the Zalando required spec fields', () => {
    assert.deepEqual([...spec.required].sort(), ['numberOfInstances', 'postgresql', 'teamId', 'volume']);
    assert.equal(spec.properties.numberOfInstances.type, 'integer');
    assert.equal(spec.properties.numberOfInstances.minimum, 0);
  });

  it('describes spec.volume and spec.volume.size (kubectl explain)', () => {
    assert.ok(typeof spec.properties.volume.description === 'string' && spec.properties.volume.description.length > 0);
    assert.ok(
      typeof spec.properties.volume.properties.size.description === 'string' &&
        spec.properties.volume.properties.size.description.length > 0,
    );
    assert.equal(typeof spec.properties.volume.properties.size.pattern, 'string');
  });

  it('users map values are nullable (foo_user: with no flags in v1.0.0)', () => {
    const users = spec.properties.users;
    assert.equal(users.type, 'object');
    assert.equal(users.additionalProperties.nullable, true);
    assert.equal(users.additionalProperties.type, 'array');
  });

  it('allowedSourceRanges items carry the cidr format (the API server parses it; no pattern)', () => {
    assert.equal(spec.properties.allowedSourceRanges.items.format, 'cidr');
    assert.equal(spec.properties.allowedSourceRanges.items.pattern, undefined);
    assert.equal(spec.properties.allowedSourceRanges.nullable, true);
  });

  it('numberOfInstances is an int32, postgresql.version an enum covering Zalando v1.0.0 to v2.0.1', () => {
    assert.equal(spec.properties.numberOfInstances.maximum, 2147483647);
    const versions = spec.properties.postgresql.properties.version.enum as string[];
    for (const v of ['9.6', '10', '13', '14', '15', '16', '17', '18']) assert.ok(versions.includes(v), v);
    assert.ok(!versions.includes('19'));
  });

  it('kubectl explain of connectionPooler.resources describes the pooler, not the Postgres container', () => {
    const pooler = spec.properties.connectionPooler.properties.resources.description as string;
    assert.match(pooler, /connection pooler/);
    assert.doesNotMatch(pooler, /Postgres \(Spilo\)/);
    assert.match(spec.properties.resources.description as string, /Postgres \(Spilo\) container/);
  });

  it('is a structural schema: no additionalProperties next to properties, no $schema, no huge integer bounds', () => {
    const visit = (node: unknown, path: string): void => {
      if (Array.isArray(node)) {
        node.forEach((n, i) => visit(n, `${path}[${i}]`));
        return;
      }
      if (node === null || typeof node !== 'object') return;
      const object = node as Json;
      assert.ok(
        !('properties' in object && 'additionalProperties' in object),
        `additionalProperties next to properties at ${path}`,
      );
      assert.ok(!('$schema' in object), `$schema at ${path}`);
      for (const bound of ['minimum', 'maximum']) {
        if (typeof object[bound] === 'number')
          assert.ok(Math.abs(object[bound]) < Number.MAX_SAFE_INTEGER, `${bound} at ${path}`);
      }
      for (const [key, value] of Object.entries(object)) visit(value, `${path}.${key}`);
    };
    visit(version.schema.openAPIV3Schema, 'openAPIV3Schema');
  });

  it('every object node either lists properties, preserves unknown fields or is a map', () => {
    const visit = (node: unknown, path: string): void => {
      if (Array.isArray(node)) {
        node.forEach((n, i) => visit(n, `${path}[${i}]`));
        return;
      }
      if (node === null || typeof node !== 'object') return;
      const object = node as Json;
      if (object.type === 'object' && path !== 'openAPIV3Schema.properties.metadata') {
        assert.ok(
          'properties' in object ||
            'additionalProperties' in object ||
            object['x-kubernetes-preserve-unknown-fields'] === true,
          `object without a shape at ${path}`,
        );
      }
      for (const [key, value] of Object.entries(object)) visit(value, `${path}.${key}`);
    };
    visit(version.schema.openAPIV3Schema, 'openAPIV3Schema');
  });
});
