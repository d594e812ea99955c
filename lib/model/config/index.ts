/**
 * Operator configuration: Zalando's ConfigMap keys, value syntax and defaults, parsed into a typed object.
 * Pure: no I/O, no environment, no clock; callers pass the ConfigMap data and environment in.
 *
 * Source: Zalando operator docs, `docs/reference/operator_parameters.md` (ConfigMap form), v1.0.0, v1.15.1
 * (https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/operator_parameters.md) and v2.0.1.
 *
 * @module
 */

export {
  type ParseResult,
  EXPECTED_BOOL,
  EXPECTED_INT,
  EXPECTED_DURATION,
  EXPECTED_DAYS,
  EXPECTED_MAP,
  parseBool,
  parseInteger,
  parseDays,
  parseList,
  parseMap,
  parseDuration,
  formatDuration,
  formatMap,
} from './syntax';
export {
  type ConfigKind,
  type CrdSection,
  type ConfigKeySpec,
  type BoolSpec,
  type IntSpec,
  type OptionalIntSpec,
  type StringSpec,
  type ListSpec,
  type MapSpec,
  type DurationSpec,
  type DaysSpec,
  type EnumSpec,
  type OperatorConfigKey,
  type ValueCheck,
  OPERATOR_CONFIG_KEYS,
  OPERATOR_CONFIG_KEY_NAMES,
  configKeySpec,
} from './keys';
export {
  type OperatorConfig,
  type ConfigError,
  type ConfigResult,
  type ConfigEnv,
  parseOperatorConfig,
  defaultOperatorConfig,
  watchedNamespaces,
  parseConfigValue,
  formatConfigValue,
  configError,
  nearestConfigKey,
} from './operator-config';
export { EXPECTED_QUANTITY, checkValue } from './checks';
export { type ConfigKeyReport, configKeyReport, describeConfigKeyReport, keysNotActedOn } from './report';
