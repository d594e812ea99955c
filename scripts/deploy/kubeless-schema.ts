/**
 * Schemas of Kubeless's `Function` and `CronJobTrigger` (kubeless.io/v1beta1), written from the Go types and the
 * checks the Kubeless controller makes, to validate the kubeless target's output without a Kubeless installation
 * (its CRDs are apiextensions v1beta1 and no longer install on current Kubernetes).
 *
 * Sources: kubeless `pkg/apis/kubeless/v1beta1/function.go` (FunctionSpec JSON names), `pkg/utils/kubelessutil.go`
 * (`splitHandler`: exactly two parts on "."; content types text|base64|url with +zip or +compressedtar and
 * +deps; `checksum` "sha256:<hex>" or empty; the prebuilt-image path), cronjob-trigger
 * `pkg/apis/kubeless/v1beta1/cronjob_trigger.go`; runtime research §1.1, §1.3.
 */
import { z } from 'zod';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const metadata = z.looseObject({
  name: z.string().regex(DNS_LABEL, 'a Function name is a DNS-1123 label (it names a Deployment and a Service)'),
  namespace: z.string().regex(DNS_LABEL).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** `<module>.<export>`: split on "." into exactly two non-empty parts (module file `<module>.js`). */
export const kubelessHandler = z.string().refine((handler) => {
  const parts = handler.split('.');
  return parts.length === 2 && parts.every((p) => p.length > 0);
}, 'handler must be <module>.<export>: exactly one "." with a name on each side');

/** `text`, `base64` or `url`, optionally `+zip` or `+compressedtar`, optionally `+deps`. */
export const kubelessContentType = z
  .string()
  .regex(
    /^(text|base64|url)(\+(zip|compressedtar))?(\+deps)?$/,
    'function-content-type must be text, base64 or url, optionally +zip or +compressedtar, optionally +deps',
  );

/** sha256 of the original (decoded) bytes, or empty (deprecated). */
export const kubelessChecksum = z.union([
  z.literal(''),
  z.string().regex(/^sha256:[0-9a-f]{64}$/, 'checksum must be sha256:<64 lower-case hex digits>'),
]);

const envVar = z.looseObject({
  name: z.string().min(1),
  value: z.string().optional(),
  valueFrom: z.looseObject({}).optional(),
});
const container = z.looseObject({
  name: z.string().optional(),
  image: z.string().min(1).optional(),
  env: z.array(envVar).optional(),
});

/** The Deployment template (apps/v1 Deployment) merged into the one Kubeless generates. */
const deploymentTemplate = z.looseObject({
  metadata: z.looseObject({}).optional(),
  spec: z
    .looseObject({
      template: z
        .looseObject({
          metadata: z.looseObject({}).optional(),
          spec: z
            .looseObject({
              serviceAccountName: z.string().regex(DNS_LABEL).optional(),
              containers: z.array(container).optional(),
            })
            .optional(),
        })
        .optional(),
    })
    .optional(),
});

const servicePort = z.looseObject({
  name: z.string().optional(),
  port: z.number().int().min(1).max(65535),
  targetPort: z.union([z.number().int(), z.string()]).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
});

/** Spec of kubeless.io/v1beta1 Function. */
export const kubelessFunctionSpec = z
  .strictObject({
    handler: kubelessHandler,
    function: z.string(),
    'function-content-type': kubelessContentType,
    checksum: kubelessChecksum,
    runtime: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'runtime is an ID plus version, e.g. nodejs22'),
    timeout: z.string().regex(/^\d+$/, 'timeout is a whole number of seconds, as a string').optional(),
    deps: z.string().optional(),
    deployment: deploymentTemplate.optional(),
    service: z.looseObject({ ports: z.array(servicePort).optional() }).optional(),
    horizontalPodAutoscaler: z.looseObject({}).optional(),
  })
  .superRefine((spec, ctx) => {
    const contentType = spec['function-content-type'];
    if (contentType.startsWith('base64')) {
      const body = spec.function;
      if (body.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body)) {
        ctx.addIssue({
          code: 'custom',
          path: ['function'],
          message: 'function is not base64 although the content type says so',
        });
      }
    }
    if (contentType.startsWith('url') && !/^https?:\/\//.test(spec.function)) {
      ctx.addIssue({
        code: 'custom',
        path: ['function'],
        message: 'function must be an http(s) URL for content type url',
      });
    }
    // Kubeless sets the runtime env (MOD_NAME, FUNC_HANDLER, ...) only when both are non-empty.
    if (spec.function === '')
      ctx.addIssue({ code: 'custom', path: ['function'], message: 'function must not be empty' });
  });

/** kubeless.io/v1beta1 Function. */
export const kubelessFunction = z.strictObject({
  apiVersion: z.literal('kubeless.io/v1beta1'),
  kind: z.literal('Function'),
  metadata,
  spec: kubelessFunctionSpec,
});

/** kubeless.io/v1beta1 CronJobTrigger (the controller makes a CronJob `trigger-<function-name>` from it). */
export const kubelessCronJobTrigger = z.strictObject({
  apiVersion: z.literal('kubeless.io/v1beta1'),
  kind: z.literal('CronJobTrigger'),
  metadata,
  spec: z.strictObject({
    'function-name': z.string().regex(DNS_LABEL),
    schedule: z.string().refine((s) => s.trim().split(/\s+/).length === 5, 'schedule is a 5-field cron expression'),
    payload: z.record(z.string(), z.unknown()).optional(),
  }),
});

export type KubelessFunction = z.infer<typeof kubelessFunction>;
export type KubelessCronJobTrigger = z.infer<typeof kubelessCronJobTrigger>;
