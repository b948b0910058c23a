/**
 * What a local stand-in server does wrong on purpose: answer with an error status, answer late,
 * or answer with garbage instead of its service's JSON.
 */
export interface ServerFault {
  /** Answer with this HTTP status and the service's error body. */
  status?: number;
  /** Wait this long before answering (or before the fault's own answer). */
  delayMs?: number;
  /** Answer 200 with a body that is not the service's JSON. */
  garbage?: boolean;
}

/** A queue of faults, each applied to one coming request. */
export class FaultPlan {
  readonly #queue: ServerFault[] = [];

  /** The next `count` requests suffer `fault`. */
  add(fault: ServerFault, count = 1): void {
    for (let i = 0; i < count; i++) this.#queue.push(fault);
  }

  /** The fault for the request being served now, if any. */
  take(): ServerFault | undefined {
    return this.#queue.shift();
  }

  clear(): void {
    this.#queue.length = 0;
  }
}
