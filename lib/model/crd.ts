/**
 * Generates the `postgresqls.acid.zalan.do` CustomResourceDefinition from the zod schema in `postgresql.ts`, so the
 * API server validates exactly what the operator parses and `kubectl explain postgresql.spec.volume` shows the
 * same descriptions.
 *
 * Source: Kubernetes API reference, apiextensions.k8s.io/v1 CustomResourceDefinition (structural schemas,
 * `x-kubernetes-preserve-unknown-fields`); Zalando manifests/postgresql.crd.yaml for names and printer columns.
 */
import * as z from 'zod';
import { POSTGRESQL, postgresqlSpec, postgresqlStatus } from './postgresql';

/** A JSON object (a CRD or a schema node). */
export type JsonSchema = { [key: string]: unknown };

/**
 * Turns zod's OpenAPI 3.0 output into a Kubernetes structural schema: a loose object either keeps unknown fields
 * (`x-kubernetes-preserve-unknown-fields`, when its zod meta asks for it) or lets the API server prune them; the
 * safe-integer bounds zod adds to every integer are dropped.
 */
function structural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(structural);
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node as JsonSchema)) {
    if (key === '$schema' || key === 'propertyNames') continue;
    if ((key === 'maximum' || key === 'minimum') && Math.abs(value as number) >= Number.MAX_SAFE_INTEGER) continue;
    if (key === 'additionalProperties' && 'properties' in (node as JsonSchema)) continue;
    out[key] = structural(value);
  }
  if (out.properties && Object.keys(out.properties).length === 0 && out['x-kubernetes-preserve-unknown-fields']) {
    delete out.properties;
  }
  return out;
}

/** @returns the structural OpenAPI v3 schema of a zod schema, as a CRD version's `openAPIV3Schema` takes it */
export function openApi(schema: z.ZodType): JsonSchema {
  return structural(
    z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }),
  ) as JsonSchema;
}

const printerColumns = [
  { name: 'Team', type: 'string', jsonPath: '.spec.teamId', description: 'Team responsible for the cluster' },
  { name: 'Version', type: 'string', jsonPath: '.spec.postgresql.version', description: 'PostgreSQL major version' },
  { name: 'Pods', type: 'integer', jsonPath: '.spec.numberOfInstances', description: 'Number of database pods' },
  { name: 'Volume', type: 'string', jsonPath: '.spec.volume.size', description: "Size of each pod's volume" },
  {
    name: 'CPU-Request',
    type: 'string',
    jsonPath: '.spec.resources.requests.cpu',
    description: 'CPU request of the Postgres container',
  },
  {
    name: 'Memory-Request',
    type: 'string',
    jsonPath: '.spec.resources.requests.memory',
    description: 'Memory request of the Postgres container',
  },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  {
    name: 'Status',
    type: 'string',
    jsonPath: '.status.PostgresClusterStatus',
    description: 'Sync status of the cluster',
  },
];

/**
 * The CRD object (apiextensions.k8s.io/v1) for `postgresql`: shortName `pg`, category `all`, status subresource,
 * Zalando's printer columns. Deterministic: the same schema always gives the same object.
 */
export function postgresqlCrd(): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${POSTGRESQL.plural}.${POSTGRESQL.group}` },
    spec: {
      group: POSTGRESQL.group,
      names: {
        kind: POSTGRESQL.kind,
        listKind: `${POSTGRESQL.kind}List`,
        plural: POSTGRESQL.plural,
        singular: POSTGRESQL.kind,
        shortNames: ['pg'],
        categories: ['all'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: POSTGRESQL.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: printerColumns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'A PostgreSQL cluster run by Spilo and Patroni, managed by the operator functions.',
              required: ['kind', 'apiVersion', 'spec'],
              properties: {
                apiVersion: { type: 'string', enum: [POSTGRESQL.apiVersion] },
                kind: { type: 'string', enum: [POSTGRESQL.kind] },
                metadata: { type: 'object' },
                spec: openApi(postgresqlSpec),
                status: openApi(postgresqlStatus),
              },
            },
          },
        },
      ],
    },
  };
}
