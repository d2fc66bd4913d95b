// The floor's captions as a strip of the latest lines, and the toggle that
// shows or hides them on a delegate's screen (remembered in this browser).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";

const STORAGE_KEY = "vcc.captions";

function storedChoice() {
  try {
    return localStorage.getItem(STORAGE_KEY) !== "off";
  } catch {
    return true;
  }
}

/** The latest `count` lines of the current (or last) sitting, oldest first. */
export function latestLines(state, count) {
  const day = state.sitting?.day ?? state.sittings.at(-1)?.day;
  return state.captions.filter((line) => line.sitting === day).slice(-count);
}

export function CaptionStrip({ lines, large = false }) {
  return html`<div class=${`caption-strip ${large ? "large" : ""}`} data-testid="captions" aria-live="polite" aria-label=${t("captions")}>
    ${lines.length === 0 ? html`<p class="muted">${t("no_captions")}</p>`
      : lines.map((line) => html`<p key=${line.line} data-line=${line.line} data-testid="caption-line">${line.text}</p>`)}
  </div>`;
}

/** Captions on a participant's screen, behind a toggle remembered per browser. */
export function CaptionPanel({ state }) {
  const [shown, setShown] = useState(storedChoice);
  const toggle = (event) => {
    setShown(event.target.checked);
    try {
      localStorage.setItem(STORAGE_KEY, event.target.checked ? "on" : "off");
    } catch {
      // Not remembered, but still applied.
    }
  };
  return html`<section class="card captions-card" aria-labelledby="captions-h">
    <div class="row spread">
      <h2 id="captions-h">${t("captions")}</h2>
      <label class="small"><input type="checkbox" data-testid="captions-toggle" checked=${shown} onChange=${toggle} /> ${t("captions_show")}</label>
    </div>
    ${shown ? html`<${CaptionStrip} lines=${latestLines(state, 3)} />` : null}
  </section>`;
}
