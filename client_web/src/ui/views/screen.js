// The public screen (webcast, projector): the item, the speaker with their
// delegation and time, the queue, the clock, in large type.
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { useNow } from "../hooks.js";
import { clock, currentRequests, timeIn, zoneLabel } from "../format.js";
import { currentItem, delegationName, itemTitle, languageName, participantName } from "../names.js";
import { SpeechTimer } from "../parts/speaker_card.js";
import { CaptionStrip, latestLines } from "../parts/captions.js";

export function ScreenView({ session }) {
  const { state, views } = session;
  const now = useNow(session, 500);
  const item = currentItem(state);
  const queue = currentRequests(state);
  let floor;
  if (state.speech) {
    floor = html`<p class="screen-speaker" data-testid="screen-speaker"><bdi>${delegationName(state, state.speech.delegation)}</bdi></p>
      <p class="screen-sub">${participantName(state, state.speech.participant)} · ${languageName(state.speech.language)}</p>
      <${SpeechTimer} speech=${state.speech} now=${now} large=${true} />`;
  } else if (state.grant) {
    floor = html`<p class="screen-speaker" data-testid="screen-granted"><bdi>${delegationName(state, state.grant.delegation)}</bdi></p>
      <p class="screen-sub">${views.clock.tail_holds ? t("interpretation_finishing") : t("screen_granted")}</p>`;
  } else {
    floor = html`<p class="screen-sub">${views.clock.tail_holds ? t("interpretation_finishing") : t("nobody_speaking")}</p>`;
  }
  return html`<div class="screen">
    <header class="screen-head">
      <span>${state.code}</span>
      <span>${zoneLabel(state.tz)} ${timeIn(now, state.tz)}${state.sitting && views.clock.sitting_open ? html` · ${t("slot_ends_in", { time: clock(state.sitting.ends_at - now) })}` : null}</span>
    </header>
    <section class="screen-item" data-testid="screen-item">
      ${item ? html`<p class="screen-code">${t("item_number", { n: item.number })} · ${item.code}</p><p class="screen-title">${itemTitle(item)}</p>`
        : html`<p class="screen-title">${t("no_item_yet")}</p>`}
    </section>
    <section class="screen-floor">${floor}</section>
    <section class="screen-captions"><${CaptionStrip} lines=${latestLines(state, 2)} large=${true} /></section>
    <section class="screen-queue">
      <h2>${t("queue")} (${queue.length})</h2>
      <ol data-testid="queue">${queue.slice(0, 8).map((r) => html`<li key=${`${r.delegation}${r.point_of_order ? ":poo" : ""}`} data-delegation=${r.delegation} data-point-of-order=${r.point_of_order}>
        <bdi>${delegationName(state, r.delegation)}</bdi>${r.point_of_order ? html` <span class="tag tag-poo">${t("point_of_order")}</span>` : null}</li>`)}</ol>
    </section>
  </div>`;
}
