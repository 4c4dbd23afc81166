/** The hub's structured logger (pino, JSON lines on stdout). Log object first: `log.info({ deviceId }, 'msg')`. */
import type { FastifyBaseLogger } from 'fastify';
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** What hub components log through: fastify's logger interface (a pino logger or a child of one). */
export type HubLogger = FastifyBaseLogger;

export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'fedfleet-hub' },
      redact: { paths: ['token', 'password', '*.token', '*.password', 'headers.authorization'], censor: '[redacted]' },
    },
    destination,
  );
}
