// Who takes part, with the viewer marked and pinned on top (the rehearsal's
// delegates wanted to see themselves in the list).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { delegationName, roleName } from "../names.js";

export function ParticipantList({ state, me }) {
  const [filter, setFilter] = useState("");
  const all = Object.values(state.participants);
  const myDelegation = me.delegation;
  const rank = (p) => (p.id === me.participant ? 0 : myDelegation && p.delegation === myDelegation ? 1 : 2);
  const needle = filter.trim().toLowerCase();
  const shown = all
    .filter((p) => !needle || p.name.toLowerCase().includes(needle) || delegationName(state, p.delegation ?? "").toLowerCase().includes(needle))
    .sort((a, b) => rank(a) - rank(b) || (a.delegation ? 0 : 1) - (b.delegation ? 0 : 1)
      || (a.delegation ?? "").localeCompare(b.delegation ?? "") || a.name.localeCompare(b.name));
  return html`<section class="card participants-card" aria-labelledby="participants-h">
    <h2 id="participants-h">${t("participants")} <span class="count">${all.length}</span></h2>
    <label class="filter"><span class="sr-only">${t("filter_participants")}</span>
      <input type="search" placeholder=${t("filter_participants")} value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} /></label>
    <ul class="participants" data-testid="participants">
      ${shown.slice(0, 200).map((p) => {
        const isMe = p.id === me.participant;
        return html`<li key=${p.id} class=${isMe ? "me" : ""} data-participant=${p.id} aria-current=${isMe ? "true" : undefined}>
          <span class="name">${p.name}</span>
          ${isMe ? html`<span class="you-tag">${t("you")}</span>` : null}
          <bdi class="muted small">${p.delegation ? delegationName(state, p.delegation) : roleName(p.role)}</bdi>
          ${p.designated_speaker ? html`<span class="tag">${t("designated_speaker")}</span>` : null}
        </li>`;
      })}
    </ul>
  </section>`;
}
