// The ARIA live region: "you have the floor" and "you are next" are spoken
// by screen readers the moment they happen.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { lastAnnouncement, onAnnounce } from "../announce.js";

export function LiveRegion() {
  const [message, setMessage] = useState(lastAnnouncement());
  useEffect(() => onAnnounce(setMessage), []);
  return html`<div class="sr-only" aria-live="assertive" aria-atomic="true" data-testid="live-region" key=${message.at}>${message.text}</div>`;
}
