import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { dismiss, onNotices } from "../feedback.js";
import { t } from "../../i18n/index.js";

export function Notices() {
  const [notices, setNotices] = useState([]);
  useEffect(() => onNotices(setNotices), []);
  return html`<div class="notices" role="alert" aria-live="assertive">
    ${notices.map((n) => html`<div class=${`notice notice-${n.kind}`} key=${n.id} data-testid="notice">
      <span>${n.text}</span>
      <button class="link" onClick=${() => dismiss(n.id)} aria-label=${t("dismiss")}>×</button>
    </div>`)}
  </div>`;
}
