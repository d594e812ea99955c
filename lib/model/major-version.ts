/**
 * The PostgreSQL major version a cluster should run, from its manifest and Zalando's major version upgrade keys: the
 * value of the pods' `PGVERSION` (`lib/builders/spilo-env.ts`) and the target of an in-place upgrade
 * (`lib/plan/major-upgrade.ts`).
 *
 * Source: Zalando postgres-operator v1.15.1 `GetDesiredMajorVersion`
 * (https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/majorversionupgrade.go) and
 * docs/reference/operator_parameters.md (`major_version_upgrade_mode`, `minimal_major_version`, `target_major_version`).
 */

/** The operator config keys of major version upgrades. */
export interface MajorUpgradeSettings {
  major_version_upgrade_mode: string;
  major_version_upgrade_team_allow_list: readonly string[];
  minimal_major_version: string;
  target_major_version: string;
}

/** @returns the major of a manifest version (`"16"` -> 16); undefined for `9.6`-style or other text */
export function parseMajor(version: string): number | undefined {
  return /^\d+$/.test(version.trim()) ? Number(version.trim()) : undefined;
}

/**
 * The version the cluster should run: `spec.postgresql.version`, or in `full` mode `target_major_version` when the
 * manifest's version is below `minimal_major_version` (Zalando's `GetDesiredMajorVersion`).
 * @returns the version text, as it goes into `PGVERSION`
 */
export function desiredMajorVersion(specVersion: string, config: MajorUpgradeSettings): string {
  if (config.major_version_upgrade_mode !== 'full') return specVersion;
  const spec = parseMajor(specVersion) ?? 0;
  const minimal = parseMajor(config.minimal_major_version) ?? 0;
  return spec < minimal ? config.target_major_version : specVersion;
}
