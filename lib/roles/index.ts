/**
 * The roles layer (pure): role sources -> merged roles; catalog rows -> SQL statements. See the modules for the
 * rules each one follows.
 */
export { desiredState, type DesiredState, type RoleSourceInputs } from './desired';
export { manifestDatabases, type DesiredDatabase } from './databases';
export { mergeRoles, withoutTeamMemberRoles, type MergedRoles } from './merge';
export { databaseNameProblem, parameterNameProblem, roleNameProblem, MAX_IDENTIFIER_BYTES } from './names';
export { parameterMatches, parameterValues } from './parameters';
export {
  forgetScramMatches,
  isVerifier,
  makeVerifier,
  md5Verifier,
  passwordMatches,
  scramVerifier,
  SCRAM_ITERATIONS,
} from './password';
export { catalogNames, planDatabases, planRoles, type PlanOptions, type SqlPlan } from './plan';
export {
  definedInfrastructureRole,
  legacyInfrastructureRoles,
  manifestRoles,
  parseInfrastructureRoleDefinitions,
  systemRoles,
  teamRoles,
  type InfrastructureRoleDefinition,
  type SourceRoles,
} from './sources';
export * from './types';
