// The current agenda item: number, code, title, documents, where it stands.
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { currentItem, itemTitle, statusName, titleLanguageNote } from "../names.js";

export function ItemCard({ state, large = false, children }) {
  const item = currentItem(state);
  if (item === null) {
    return html`<section class="card" aria-labelledby="item-h"><h2 id="item-h">${t("current_item")}</h2>
      <p class="muted">${t("no_item_yet")}</p></section>`;
  }
  return html`<section class=${`card item-card ${large ? "large" : ""}`} aria-labelledby="item-h" data-testid="current-item">
    <h2 id="item-h">${t("current_item")}</h2>
    <p class="item-code"><span class="item-number">${t("item_number", { n: item.number })}</span> · ${item.code}
      ${item.status !== "open" ? html` · <span class=${`status status-${item.status}`}>${statusName(item.status)}</span>` : null}
      ${item.list_closed ? html` · <span class="status status-closed">${t("list_closed")}</span>` : null}</p>
    ${item.section ? html`<p class="item-section muted small" data-testid="item-section">${item.section}</p>` : null}
    <p class="item-title" dir="auto">${itemTitle(item)}</p>
    ${titleLanguageNote(item) ? html`<p class="muted small" data-testid="title-language">${titleLanguageNote(item)}</p>` : null}
    ${item.documents.length
      ? html`<p class="documents"><span class="muted">${t("documents")}:</span> ${item.documents.map((d) => html`<span class="doc">${d}</span>`)}</p>`
      : null}
    ${item.conclusion ? html`<div class="conclusion"><span class="muted">${t("proposed_conclusion")}:</span> <q>${item.conclusion}</q></div>` : null}
    ${children}
  </section>`;
}
