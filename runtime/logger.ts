/**
 * One JSON line per event on stderr (pino): what ran, never whose data.
 * Personal fields are redacted from every line whatever code logs them
 * (`redact`, from the access rules: access/redaction.ts), and a child logger
 * carries the request id and the city, so that one query can be followed
 * from the gateway to every city call.
 */
import pino, { type DestinationStream } from 'pino';

export interface Logger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
  /** A logger whose every line carries these fields too (a request id, a city); see `childOf`. */
  child?(bindings: Record<string, unknown>): Logger;
}

/** A child logger carrying `bindings`, or the logger itself when it makes none (a test's). */
export function childOf(logger: Logger, bindings: Record<string, unknown>): Logger {
  return logger.child?.(bindings) ?? logger;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, child: () => silentLogger };

export interface LoggerOptions {
  /** `error`, `warn`, `info` (default) or `debug`: from LOG_LEVEL. */
  level?: string;
  /** Field names whose values never reach a line, at any depth up to two levels. */
  redact?: readonly string[];
  /** Where lines go; default stderr. */
  destination?: DestinationStream;
}

const levels = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

function wrap(p: pino.Logger): Logger {
  return {
    info: (msg, data) => p.info(data ?? {}, msg),
    warn: (msg, data) => p.warn(data ?? {}, msg),
    error: (msg, data) => p.error(data ?? {}, msg),
    child: (bindings) => wrap(p.child(bindings)),
  };
}

export function createLogger(component: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!levels.has(level)) throw new Error(`LOG_LEVEL must be one of ${[...levels].join(', ')}; got ${JSON.stringify(level)}`);
  const paths = (options.redact ?? []).flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);
  const p = pino(
    {
      level,
      base: { component },
      // Level names, not numbers: readable, and what `npm start` looks for to show errors.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths, censor: '[personal data]' },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
  return wrap(p);
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
