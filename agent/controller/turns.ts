// Turns on the agent's one thread for the CPU-bound stages of reconciles (render, compare). Twenty apps
// of one push rendered side by side advance in lockstep, each await letting the next one in, and all
// finish together: the first apply then waits for the last render. With a few turns at a time, the
// first app renders, compares and applies while the next renders, and the API server works meanwhile.

/** Who goes first when a turn frees: an app finishing what it started before one starting. */
export type TurnPriority = "start" | "finish";

interface Waiting {
  readonly priority: TurnPriority;
  readonly go: () => void;
}

export interface TurnsOptions {
  /** Turns held at once. */
  readonly slots: number;
  /**
   * A turn held this long frees its slot by itself (the holder goes on without one): a render
   * waiting on a process or the network never holds up the renders behind it for longer.
   */
  readonly holdMs: number;
}

export class Turns {
  private active = 0;
  private readonly waiting: Waiting[] = [];

  constructor(private readonly opts: TurnsOptions) {}

  /** Waits for a turn; the function returned ends it (at most once, whoever calls it). */
  async take(priority: TurnPriority = "start"): Promise<() => void> {
    if (this.active >= this.opts.slots) {
      await new Promise<void>((go) => {
        const at = priority === "finish" ? this.waiting.findIndex((w) => w.priority === "start") : -1;
        this.waiting.splice(at < 0 ? this.waiting.length : at, 0, { priority, go });
      });
    }
    this.active++;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      this.active--;
      this.waiting.shift()?.go();
    };
    const timer = setTimeout(end, this.opts.holdMs);
    timer.unref();
    return end;
  }

}

/** Runs `work` in a turn of `turns`; at once without them. */
export async function inTurn<T>(turns: Turns | undefined, priority: TurnPriority, work: () => Promise<T>): Promise<T> {
  const end = await turns?.take(priority);
  try {
    return await work();
  } finally {
    end?.();
  }
}
