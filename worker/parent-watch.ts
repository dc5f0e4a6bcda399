/**
 * A worker started by the local stack holds an IPC channel to it (local/stack.ts); the
 * channel closes when the stack process dies, however it dies (SIGKILL included), so the
 * worker never outlives it. Workers without a channel (ECS, a shell) are not watched.
 */

/** Set by the local stack on the workers it starts with an IPC channel. */
export const WATCH_PARENT_ENV = 'MR_WATCH_PARENT';

/**
 * Call `onGone` once the parent is gone. A parent that died while this process was still
 * starting closed the channel before anyone listened ('disconnect' was emitted to nobody),
 * so a worker that was given a channel and no longer has one is told at once.
 */
export function watchParent(env: NodeJS.ProcessEnv, onGone: () => void): void {
  if (env[WATCH_PARENT_ENV] !== '1' && !process.channel) return;
  if (!process.channel || !process.connected) {
    onGone();
    return;
  }
  process.channel.unref();
  process.once('disconnect', onGone);
}
