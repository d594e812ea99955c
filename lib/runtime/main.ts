/**
 * Entry point of the function host (bundled to `dist/host/host.js`; the runtime image's command). Reads the
 * Kubeless env vars (see host.ts), serves the function, and stops on SIGTERM/SIGINT after the requests in flight.
 */
import { createLogger } from '../log/logger';
import { hostOptionsFromEnv, startHost } from './host';

const log = createLogger(undefined, process.env.LOG_LEVEL === 'debug' ? 'debug' : 'info');

startHost({ ...hostOptionsFromEnv(process.env), log }).then(
  (host) => {
    const stop = (signal: string) => {
      log.info('Stopping', { signal });
      void host.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  },
  (error: Error) => {
    log.error('Could not start the function host', { error: error.message });
    process.exit(1);
  },
);
