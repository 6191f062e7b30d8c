// @ts-check
/**
 * Reconnection delays of the signaling client (protocol.js).
 *
 * @module reconnect
 */

/** Default reconnection delays in milliseconds; the last one repeats. */
const DEFAULT_BACKOFF = [1000, 2000, 4000, 8000, 10000];

/** Counts reconnection attempts and runs each after its delay. */
export class Backoff {
  /** @type {number[]} */ #delays;
  #attempt = 0;
  /** @type {ReturnType<typeof setTimeout> | null} */ #timer = null;

  /** @param {number[]} [delays] in ms, the last one repeats; DEFAULT_BACKOFF if empty */
  constructor(delays) {
    this.#delays = delays?.length ? delays : DEFAULT_BACKOFF;
  }

  /**
   * Counts one more attempt.
   * @returns {{attempt: number, delay: number}} its number, from 1, and its delay
   */
  next() {
    const delay = this.#delays[Math.min(this.#attempt, this.#delays.length - 1)];
    this.#attempt++;
    return { attempt: this.#attempt, delay };
  }

  /**
   * Runs fn after delay ms, unless cancel() is called first.
   * @param {number} delay
   * @param {() => void} fn
   */
  wait(delay, fn) {
    this.cancel();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      fn();
    }, delay);
  }

  /** Cancels the pending wait(), if any. */
  cancel() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Starts counting again from the first delay. */
  reset() {
    this.#attempt = 0;
  }
}
