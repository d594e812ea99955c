/**
 * The outcome for an invocation that cannot run because the operator ConfigMap is invalid and no configuration was
 * applied before (with one, `createOperatorContext` falls back to it and this is not reached): nothing is synced
 * with a config the user did not mean (200, not retried; the fix of the ConfigMap triggers onOperatorConfigChange).
 */
import type { OperatorContextResult } from '../../lib/sync/operator/load';
import type { Outcome } from '../../lib/runtime/handler';

export function invalidConfigOutcome(operator: Extract<OperatorContextResult, { ok: false }>): Outcome {
  return {
    result: {
      skipped: `the operator ConfigMap ${operator.location.namespace}/${operator.location.name} is invalid`,
      errors: operator.errors.map((e) => e.message),
    },
  };
}
