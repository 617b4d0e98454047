// A timer for a moment that may be months away: setTimeout fires at once past 2^31-1 ms (~24.8
// days), so a long wait is taken in steps.
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Calls `fire` at `at` (epoch ms); returns a function that cancels it. */
export function atTime(at: number, fire: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = at - Date.now();
    timer = setTimeout(left > MAX_DELAY_MS ? arm : fire, Math.max(0, Math.min(left, MAX_DELAY_MS)));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
