// A button for a step that cannot be undone (an objection defers an item):
// the first press asks, the second confirms; Escape or "Cancel" goes back.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";

export function ConfirmButton({ label, question, onConfirm, className = "secondary", disabled = false, testid }) {
  const [asking, setAsking] = useState(false);
  const confirmButton = useRef(null);
  // Focus moves to "Confirm" once, when the question appears (not on every repaint of a live screen).
  useEffect(() => {
    if (asking) confirmButton.current?.focus();
  }, [asking]);
  if (!asking) {
    return html`<button class=${className} disabled=${disabled} data-testid=${testid} onClick=${() => setAsking(true)}>${label}</button>`;
  }
  return html`<span class="confirm" role="group" aria-label=${question} onKeyDown=${(e) => e.key === "Escape" && setAsking(false)}>
    <span>${question}</span>
    <button class="danger" data-testid=${testid && `${testid}-confirm`} ref=${confirmButton}
      onClick=${() => { setAsking(false); onConfirm(); }}>${t("confirm_action", { action: label })}</button>
    <button class="secondary" onClick=${() => setAsking(false)}>${t("cancel")}</button>
  </span>`;
}
