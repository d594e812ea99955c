/**
 * The routes the operator API answers beyond Zalando's read paths, gathered for the function that serves them:
 * `/metrics` (per-cluster metrics, `metrics-route.ts`) and `POST /plan` (the plan preview, `plan-route.ts`).
 */
import type { ExtraRoutes } from './handle';
import { metricsRoute } from './metrics-route';
import { planRoute } from './plan-route';

/** Every extra route of the operator API. */
export const API_ROUTES: ExtraRoutes = {
  metrics: (_route, ctx) => metricsRoute(ctx),
  plan: (_route, ctx) => planRoute(ctx),
};
