// Latency: after a packet goes out, the answer usually comes back within a millisecond. Sleeping in the event loop
// meanwhile costs a wake-up per packet (tens of microseconds in a VM, several per gdb `stepi`); keeping the loop
// polling (setImmediate: epoll with a zero timeout) for a short while after each packet avoids it. Bounded: the
// loop goes back to sleep once nothing has been sent for `ms`.
let until = 0;
let active = false;

function loop(): void {
  if (performance.now() < until) setImmediate(loop);
  else active = false;
}

export function pollFor(ms = 1): void {
  until = Math.max(until, performance.now() + ms);
  if (!active) {
    active = true;
    setImmediate(loop);
  }
}
