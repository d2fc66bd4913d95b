// The action a person took while the link was down (or that the link cut off
// before the server answered): shown as not sent, and once the screen is in
// step again, sent only if the person says so.
import { useEffect, useRef } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { actionName } from "../feedback.js";

export function PendingAction({ session }) {
  const pending = session.pending;
  const sendButton = useRef(null);
  const back = pending?.phase === "back";
  // The question takes the focus once, when the connection comes back.
  useEffect(() => {
    if (back) sendButton.current?.focus();
  }, [back, pending]);
  if (pending === null) return null;
  const action = actionName(pending.message.type, pending.message);
  const drop = html`<button class="secondary small" data-testid="pending-drop" onClick=${() => session.dropPending()}>${t("pending_drop")}</button>`;
  if (!back) {
    return html`<div class="pending" role="status" data-testid="pending" data-phase="offline" data-unsure=${pending.unsure}>
      <span>${t(pending.unsure ? "pending_offline_unsure" : "pending_offline", { action })}</span>${drop}</div>`;
  }
  return html`<div class="pending back" role="alertdialog" aria-labelledby="pending-q" data-testid="pending" data-phase="back" data-unsure=${pending.unsure}>
    <span id="pending-q">${t(pending.unsure ? "pending_back_unsure" : "pending_back", { action })}</span>
    <button class="small" data-testid="pending-send" ref=${sendButton} onClick=${() => session.sendPending()}>${t("pending_send")}</button>
    ${drop}</div>`;
}
