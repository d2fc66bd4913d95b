// The ARIA live region: what a screen-reader user must hear at once
// ("you have the floor", "you are next"), also shown in a visible banner.

const listeners = new Set();
let current = { text: "", at: 0 };

export function announce(text) {
  current = { text, at: Date.now() };
  for (const listener of listeners) listener(current);
}

export function onAnnounce(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function lastAnnouncement() {
  return current;
}
