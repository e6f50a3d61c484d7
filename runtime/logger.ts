/**
 * One JSON line per event on stderr: what ran, never whose data.
 */

export interface Logger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

export function createLogger(component: string, write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const log = (level: string) => (msg: string, data?: Record<string, unknown>) =>
    write(JSON.stringify({ t: new Date().toISOString(), level, component, msg, ...data }));
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

/** The same logger in the shape Apollo Server and Gateway take (their debug chatter is dropped). */
export function apolloLogger(logger: Logger) {
  return {
    debug() {},
    info: (m: unknown) => logger.info(String(m)),
    warn: (m: unknown) => logger.warn(String(m)),
    error: (m: unknown) => logger.error(String(m)),
  };
}
