// The delegate's screen: the floor panel (request -> you are #N -> you are
// next -> you have the floor -> go live -> yield), the item, the speaker, the
// queue with the own delegation marked, the channel, the participants.
import { useEffect, useRef } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { useNow, useShortcuts } from "../hooks.js";
import { act } from "../feedback.js";
import { announce } from "../announce.js";
import { currentRequests, queueEntry, seconds } from "../format.js";
import { currentItem, isolated, languageName } from "../names.js";
import { ItemCard } from "../parts/item_card.js";
import { SpeakerCard, SpeechTimer, TailNote } from "../parts/speaker_card.js";
import { QueueList } from "../parts/queue_list.js";
import { ParticipantList } from "../parts/participants.js";
import { ChannelSelector } from "../parts/channel_selector.js";
import { MicStatus } from "../parts/mic_status.js";
import { MicrophoneLink } from "../parts/media_link.js";
import { ConfirmButton } from "../parts/confirm_button.js";
import { DelegateBallots } from "../parts/ballots.js";
import { CaptionPanel } from "../parts/captions.js";
import { AlertSettings } from "../parts/alert_settings.js";
import { floorAlert } from "../floor_alert.js";

/** The server's figures for a delegation's request (or point of order), or null. */
function entryOf(state, views, delegation, pointOfOrder) {
  const index = currentRequests(state).findIndex((r) => r.delegation === delegation && r.point_of_order === pointOfOrder);
  return index < 0 ? null : queueEntry(views, index);
}

/** Where the viewer's delegation stands on the floor. */
export function floorPhase(state, views, me) {
  const delegation = me.delegation;
  if (!delegation) return { phase: "none" };
  if (state.speech?.delegation === delegation) return { phase: "speaking", self: state.speech.participant === me.participant };
  if (state.grant?.delegation === delegation) return { phase: views.clock.tail_holds ? "tail" : "granted" };
  const entry = entryOf(state, views, delegation, false);
  if (entry) return { phase: "queued", place: entry.place, waitMs: entry.waitMs };
  return { phase: "idle" };
}

const BLOCKER_KEYS = { no_item: "no_item_yet", item_not_open: "item_not_open", list_closed: "list_closed_note" };

function requestBlocker(views) {
  return views.request_blocker === "none" ? null : t(BLOCKER_KEYS[views.request_blocker]);
}

function waitText(ms) {
  return ms < 30000 ? t("wait_soon") : t("wait_minutes", { n: Math.round(ms / 60000) });
}

export function FloorPanel({ session }) {
  const { state, views } = session;
  const me = session.me;
  const now = useNow(session, 500);
  const floor = floorPhase(state, views, me);
  const delegation = me.delegation ? state.delegations[me.delegation] : null;
  const previous = useRef(floor);
  const goLiveButton = useRef(null);

  useEffect(() => {
    const before = previous.current;
    if ((floor.phase === "granted" || floor.phase === "tail") && before.phase !== "granted" && before.phase !== "tail") {
      announce(t("you_have_the_floor"));
      floorAlert(t("you_have_the_floor"), t("floor_alert_body", { delegation: delegation?.name ?? "" }));
    }
    // "Go live" takes the focus as soon as it can be pressed (after the interpretation tail).
    if (floor.phase === "granted" && before.phase !== "granted") goLiveButton.current?.focus();
    if (floor.phase === "queued" && floor.place === 1 && !(before.phase === "queued" && before.place === 1)) announce(t("you_are_next"));
    previous.current = floor;
  });

  const blocker = requestBlocker(views);
  // A point of order is a request of its own: raised while queued, it goes first and the request keeps its place.
  const pointOfOrder = delegation ? entryOf(state, views, delegation.id, true) : null;
  const mayPointOfOrder = delegation && views.allowed[delegation.cls].point_of_order && (floor.phase === "idle" || floor.phase === "queued");
  const request = (asPointOfOrder = false) => act(session, "request_floor", { point_of_order: asPointOfOrder });
  const withdraw = () => act(session, "withdraw_floor_request");
  const withdrawPointOfOrder = () => act(session, "withdraw_floor_request", { point_of_order: true });
  const goLive = () => act(session, "go_live");
  const yieldFloor = () => act(session, "yield_floor");
  const designated = me.record?.designated_speaker;

  useShortcuts({
    r: () => floor.phase === "idle" && !blocker && request(),
    p: () => mayPointOfOrder && !pointOfOrder && request(true),
    w: () => floor.phase === "queued" && withdraw(),
    l: () => floor.phase === "granted" && designated && goLive(),
    y: () => floor.phase === "speaking" && floor.self && yieldFloor(),
  });

  let body;
  if (floor.phase === "none") {
    body = html`<p class="muted">${t("not_a_delegate")}</p>`;
  } else if (floor.phase === "speaking") {
    const slowly = state.speak_slowly && state.speak_slowly.participant === state.speech.participant;
    body = html`<div class="phase phase-live" data-testid="phase" data-phase="speaking">
      <p class="phase-title">${floor.self ? t("you_are_live") : t("delegation_is_live")}</p>
      ${slowly ? html`<p class="alert speak-slowly" role="alert" data-testid="speak-slowly">${t("speak_slowly_alert", { booth: languageName(state.speak_slowly.booth) })}</p>` : null}
      <${SpeechTimer} speech=${state.speech} now=${now} large=${true} />
      ${floor.self ? html`<button class="big danger" data-testid="yield" aria-keyshortcuts="Y" onClick=${yieldFloor}>${t("yield")} <kbd>Y</kbd></button>` : null}
    </div>`;
  } else if (floor.phase === "granted" || floor.phase === "tail") {
    const waiting = floor.phase === "tail";
    body = html`<div class="phase phase-granted" data-testid="phase" data-phase=${floor.phase}>
      <p class="phase-title" data-testid="you-have-the-floor">${t("you_have_the_floor")}</p>
      ${state.grant.point_of_order ? html`<p class="tag tag-poo" data-testid="granted-point-of-order">${t("point_of_order")}</p>` : null}
      ${waiting ? html`<div class="wait-tail" data-testid="tail-wait"><strong>${t("interpretation_finishing")}</strong><${TailNote} state=${state} now=${now} /></div>` : null}
      ${designated
        ? html`<button class="big go" data-testid="go-live" aria-keyshortcuts="L" disabled=${waiting} ref=${goLiveButton} onClick=${goLive}>${t("go_live")} <kbd>L</kbd></button>`
        : html`<p class="warning">${t("not_designated", { names: designatedSpeakers(state, me.delegation) })}</p>`}
      <${MicStatus} session=${session} />
      <p class="muted small">${t("granted_since", { time: seconds(now - state.grant.granted_at, 0) })}</p>
    </div>`;
  } else if (floor.phase === "queued") {
    const next = floor.place === 1;
    body = html`<div class=${`phase phase-queued ${next ? "next" : ""}`} data-testid="phase" data-phase="queued" data-place=${floor.place}>
      <p class="phase-title" data-testid="position">${t("you_are_n", { n: floor.place })} · ${waitText(floor.waitMs)}</p>
      ${next ? html`<p class="alert" data-testid="you-are-next">${t("you_are_next")}</p><${MicStatus} session=${session} />` : null}
      <button class="secondary" data-testid="withdraw" aria-keyshortcuts="W" onClick=${withdraw}>${t("withdraw")} <kbd>W</kbd></button>
    </div>`;
  } else {
    body = html`<div class="phase phase-idle" data-testid="phase" data-phase="idle">
      <button class="big" data-testid="request-floor" aria-keyshortcuts="R" disabled=${Boolean(blocker)} onClick=${() => request()}>
        ${t("request_floor")} <kbd>R</kbd></button>
      ${blocker ? html`<p class="muted">${blocker}</p>` : null}
    </div>`;
  }
  let pointOfOrderBox = null;
  if (pointOfOrder) {
    pointOfOrderBox = html`<div class="point-of-order-box" data-testid="point-of-order-raised" data-place=${pointOfOrder.place}>
      <p><span class="tag tag-poo">${t("point_of_order")}</span> ${t("point_of_order_raised", { n: pointOfOrder.place })}</p>
      <button class="secondary small" data-testid="withdraw-point-of-order" onClick=${withdrawPointOfOrder}>${t("withdraw_point_of_order")}</button>
    </div>`;
  } else if (mayPointOfOrder) {
    pointOfOrderBox = html`<button class="secondary" data-testid="point-of-order" aria-keyshortcuts="P" onClick=${() => request(true)}>${t("raise_point_of_order")} <kbd>P</kbd></button>
      ${floor.phase === "queued" ? html`<p class="muted small">${t("point_of_order_keeps_place")}</p>` : null}`;
  }
  return html`<section class="card floor-panel" aria-labelledby="floor-h">
    <h2 id="floor-h">${delegation ? t("floor_for", { delegation: isolated(delegation.name) }) : t("the_floor")}</h2>
    ${body}
    ${pointOfOrderBox}
    ${delegation ? html`<${AlertSettings} />` : null}
  </section>`;
}

function designatedSpeakers(state, delegation) {
  return Object.values(state.participants).filter((p) => p.delegation === delegation && p.designated_speaker).map((p) => p.name).join(", ") || "—";
}

/** A council member may object, ask to postpone, propose to suspend, or pull the item out of the package. */
function BlockActions({ session }) {
  const { state, views } = session;
  const delegation = session.me.delegation ? state.delegations[session.me.delegation] : null;
  const item = currentItem(state);
  if (!delegation || !item || !views.allowed[delegation.cls].block) return null;
  const block = (kind) => act(session, "block_item", { item: item.ref, kind });
  return html`<details class="block-actions">
    <summary>${t("council_member_actions", { delegation: isolated(delegation.name) })}</summary>
    <p class="muted small">${t("block_explainer")}</p>
    <div class="row">
      ${["objection", "postponement", "suspension"].map((kind) => html`<${ConfirmButton} key=${kind} label=${t(`block_${kind}`)}
        question=${t(`confirm_block_${kind}`, { item: item.number })} onConfirm=${() => block(kind)} testid=${`block-${kind}`} />`)}
      ${state.package.includes(item.ref)
        ? html`<${ConfirmButton} label=${t("pull_from_package")} question=${t("pull_confirm", { item: item.number })}
            onConfirm=${() => act(session, "pull_from_package", { item: item.ref })} />`
        : null}
    </div>
  </details>`;
}

export function DelegateView({ session }) {
  const { state, views } = session;
  const me = session.me;
  const now = useNow(session, 1000);
  const ownLanguage = me.record?.languages?.[0] ?? "floor";
  return html`<div class="grid delegate-grid">
    <div class="col-main">
      <${FloorPanel} session=${session} />
      <${MicrophoneLink} session=${session} />
      <${SpeakerCard} state=${state} views=${views} now=${now} />
      <${CaptionPanel} state=${state} />
      <${QueueList} state=${state} views=${views} mine=${me.delegation} />
    </div>
    <div class="col-side">
      <${DelegateBallots} session=${session} />
      <${ItemCard} state=${state}><${BlockActions} session=${session} /><//>
      <${ChannelSelector} state=${state} views=${views} session=${session} defaultChannel=${ownLanguage} />
      <${ParticipantList} state=${state} me=${me} />
    </div>
  </div>`;
}
