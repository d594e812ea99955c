/**
 * The bridge's own HTTP endpoint: `GET /metrics` (Prometheus text format) and `GET /healthz` (200 once the
 * initial lists are done, 503 before and while stopping).
 *
 * Source: Prometheus exposition formats; Kubernetes probes (any 2xx/3xx is success).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { closeIdleSockets, QUIET_SERVER_OPTIONS } from '../runtime/idle';

/** A listening server. */
export interface BridgeServer {
  /** the port it listens on (useful with port 0) */
  port: number;
  close(): Promise<void>;
}

/**
 * @param port TCP port; 0 picks a free one
 * @param host address to bind; default all interfaces (a Pod's probes and Prometheus come from outside)
 * @param healthy whether `/healthz` answers 200
 * @returns once listening; rejects when the port cannot be bound
 */
export function startServer(
  port: number,
  registry: Registry,
  healthy: () => boolean,
  host?: string,
): Promise<BridgeServer> {
  const server = http.createServer(QUIET_SERVER_OPTIONS, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'starting or stopping\n');
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
    }
  });
  closeIdleSockets(server, 30_000);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
