/**
 * Running a command in a pod's container through the Kubernetes `pods/exec` subresource (a WebSocket, as
 * `kubectl exec` does), with client-node's `Exec`. The operator uses it for one thing: Spilo's in-place major version
 * upgrade script in the master pod (`lib/sync/upgrade/step.ts`).
 *
 * client-node's `Exec` and its WebSocket library are loaded on first use (a dynamic import), so the function bundles
 * that never exec do not compile them at a cold start.
 *
 * Source: Kubernetes API reference, core/v1 Pod `connect GET /api/v1/namespaces/{namespace}/pods/{name}/exec`
 * (`command`, `container`, `stdout`, `stderr`); the channel protocol's status message (meta/v1 Status, `reason`
 * `NonZeroExitCode` with cause `ExitCode`), as client-node 1.x reads it (dist/exec.js, dist/web-socket-handler.js).
 */
import { Writable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';

/** What a command run in a pod did. */
export interface ExecResult {
  /** the command's exit code (0 on success) */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** the closing Status's message when the command failed (e.g. the kubelet's reason it could not run it) */
  message?: string;
}

/** Which container of which pod. */
export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
}

/** The meta/v1 Status at the end of an exec stream. */
interface ExecStatus {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: Array<{ reason?: string; message?: string }> };
}

/** @returns the exit code a Status carries: 0 for `Success`, its `ExitCode` cause, else 1 */
export function exitCodeOf(status: ExecStatus): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : 1;
}

/**
 * @returns an Error for what the WebSocket layer rejected with: an Error, an ErrorEvent-like object with a `message`
 *   (or an HTTP refusal's `statusCode`), or anything else as JSON
 */
export function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  const e = error as { message?: unknown; statusCode?: unknown; status?: unknown };
  if (typeof e?.message === 'string' && e.message) return new Error(e.message);
  if (e?.statusCode !== undefined || e?.status !== undefined) {
    return new Error(`the exec was refused: HTTP ${String(e.statusCode ?? e.status)}`);
  }
  let text: string;
  try {
    text = JSON.stringify(error);
  } catch {
    text = String(error);
  }
  return new Error(`the exec failed: ${text}`);
}

/** A Writable that keeps what it is given as text, at most `limit` characters (the last ones). */
function collector(limit: number): Writable & { text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text = (text + chunk.toString('utf8')).slice(-limit);
      done();
    },
  });
  return Object.assign(stream, { text: () => text });
}

/**
 * Runs `command` in the container and waits for it to end.
 * @param timeoutMs how long the command may run (ms); then the stream is closed and an Error thrown
 * @param outputLimit characters of stdout and of stderr kept (the last ones); default 64 KiB
 * @returns the exit code and output; throws when the exec cannot be opened (RBAC, the pod gone, no kubelet), or ends
 *   without a status, or times out
 */
export async function execInPod(
  kubeConfig: KubeConfig,
  target: ExecTarget,
  command: string[],
  timeoutMs: number,
  outputLimit = 64 * 1024,
): Promise<ExecResult> {
  const { Exec } = await import('@kubernetes/client-node/dist/exec.js');
  const stdout = collector(outputLimit);
  const stderr = collector(outputLimit);
  return new Promise<ExecResult>((resolve, reject) => {
    let socket: { close: () => void } | undefined;
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const timer = setTimeout(() => {
      socket?.close();
      finish(() => reject(new Error(`the command in pod ${target.pod} did not end within ${timeoutMs} ms`)));
    }, timeoutMs);
    new Exec(kubeConfig)
      .exec(target.namespace, target.pod, target.container, command, stdout, stderr, null, false, (status) => {
        const { message } = status as ExecStatus;
        const exitCode = exitCodeOf(status as ExecStatus);
        const result = { exitCode, stdout: stdout.text(), stderr: stderr.text() };
        finish(() => resolve(exitCode !== 0 && message ? { ...result, message } : result));
      })
      .then((ws) => {
        socket = ws;
        ws.on('close', () =>
          finish(() => reject(new Error(`the exec stream of pod ${target.pod} closed without an exit status`))),
        );
        ws.on('error', (error: unknown) => finish(() => reject(asError(error))));
      })
      .catch((error: unknown) => finish(() => reject(asError(error))));
  });
}
