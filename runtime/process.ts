/** Process life of the gateway and subgraphs. */
import type { Logger } from './logger.ts';

export const STOP_WITH_PARENT_ENV = 'LGNET_STOP_WITH_PARENT';

/**
 * In a process started by the stack (scripts/stack.ts): stop when the stack's
 * process is gone, however it ended, because its end of our stdin closes.
 */
function stopWithParent(stop: () => void): void {
  if (process.env[STOP_WITH_PARENT_ENV] !== '1') return;
  process.stdin.on('end', stop).on('close', stop).resume();
}

/**
 * Runs a service as this process's whole life: starts it, prints
 * `{"ready": "<url>"}` on stdout (the stack waits for that line), and stops it
 * once on SIGTERM, SIGINT or the end of the parent. A failure to start is
 * logged and exits 1.
 */
export async function runService(logger: Logger, start: () => Promise<{ url: string; close(): Promise<void> }>): Promise<void> {
  try {
    const service = await start();
    process.stdout.write(JSON.stringify({ ready: service.url }) + '\n');
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await service.close();
      process.exit(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    stopWithParent(stop);
  } catch (e) {
    logger.error('failed to start', { error: (e as Error).message });
    process.exit(1);
  }
}
