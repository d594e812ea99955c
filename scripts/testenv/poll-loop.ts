/**
 * The polling loop of the test harnesses that stand in for a kubelet (pooler-pods.ts, logical-backup-jobs.ts): one
 * round at once, the next one a period after the previous one ended (rounds never overlap), a failed round reported
 * and the loop kept going, and a stop that waits for the round in progress.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> = Promise.resolve();
  private stopped = false;

  /**
   * @param round one pass over what is polled; its errors go to `onError`
   * @param periodMs the pause between the end of a round and the start of the next, in ms
   */
  constructor(
    private readonly round: () => Promise<void>,
    private readonly periodMs: number,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Starts the loop (the first round at once). */
  start(): void {
    const tick = () => {
      this.current = this.round()
        .catch((error: Error) => this.onError(error))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.periodMs);
        });
    };
    tick();
  }

  /** Stops the loop once the round in progress has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }
}
