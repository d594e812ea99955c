/**
 * Generates the `postgresteams.acid.zalan.do` CustomResourceDefinition from the zod schema in `postgres-team.ts`,
 * with Zalando's names (kind PostgresTeam, short name `pgteam`, category `all`), so its PostgresTeam objects apply
 * unchanged.
 *
 * Source: Kubernetes API reference, apiextensions.k8s.io/v1 CustomResourceDefinition; Zalando
 * manifests/postgresteam.crd.yaml (v1.15.1) for the names.
 */
import { openApi, type JsonSchema } from './crd';
import { POSTGRES_TEAM, postgresTeamSpec } from './postgres-team';

/** @returns the CRD object for PostgresTeam; deterministic */
export function postgresTeamCrd(): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${POSTGRES_TEAM.plural}.${POSTGRES_TEAM.group}` },
    spec: {
      group: POSTGRES_TEAM.group,
      names: {
        kind: POSTGRES_TEAM.kind,
        listKind: `${POSTGRES_TEAM.kind}List`,
        plural: POSTGRES_TEAM.plural,
        singular: 'postgresteam',
        shortNames: ['pgteam'],
        categories: ['all'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: POSTGRES_TEAM.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'Additional teams and members for the Postgres clusters of a team.',
              required: ['kind', 'apiVersion', 'spec'],
              properties: {
                apiVersion: { type: 'string', enum: [POSTGRES_TEAM.apiVersion] },
                kind: { type: 'string', enum: [POSTGRES_TEAM.kind] },
                metadata: { type: 'object' },
                spec: openApi(postgresTeamSpec),
              },
            },
          },
        },
      ],
    },
  };
}
