/** Process life of the gateway and subgraphs. */

export const STOP_WITH_PARENT_ENV = 'LGNET_STOP_WITH_PARENT';

/**
 * In a process started by the stack (runtime/stack.ts): stop when the stack's
 * process is gone, however it ended, because its end of our stdin closes.
 */
export function stopWithParent(stop: () => void): void {
  if (process.env[STOP_WITH_PARENT_ENV] !== '1') return;
  process.stdin.on('end', stop).on('close', stop).resume();
}
