// The queue of the current item, in the order the floor will be given; the
// viewer's own delegation is marked so that a delegate sees itself at once.
// For the chair (`now` given) each request tells its story: when it was made,
// how long it has waited, and how often the delegation already spoke on the item.
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { clock, currentRequests, queueEntry, timeIn } from "../format.js";
import { className, delegationName } from "../names.js";

function RequestStory({ state, request, now, spoke }) {
  return html`<span class="story" data-testid="request-story">
    <span data-testid="requested-at">${t("requested_at", { time: timeIn(request.requested_at, state.tz) })}</span>
    <span class="waited" data-testid="waited">${t("waiting_for", { time: clock(now - request.requested_at) })}</span>
    <span class=${spoke ? "spoke" : "not-spoken"} data-testid="spoke" data-n=${spoke}>${spoke ? t("spoke_on_item", { n: spoke }) : t("not_spoken_on_item")}</span>
  </span>`;
}

export function QueueList({ state, views, mine = null, limit = Infinity, actions = null, title = t("queue"), now = null }) {
  // The requests are the state's; their places (and waits) the server's queue view.
  const queue = currentRequests(state);
  const shown = queue.slice(0, limit);
  return html`<section class="card queue-card" aria-labelledby="queue-h">
    <h2 id="queue-h">${title} <span class="count">${queue.length}</span></h2>
    ${queue.length === 0 ? html`<p class="muted">${t("queue_empty")}</p>` : null}
    <ol class="queue" data-testid="queue">
      ${shown.map((request, index) => {
        const entry = queueEntry(views, index);
        const delegation = state.delegations[request.delegation];
        const isMine = request.delegation === mine;
        return html`<li key=${`${request.delegation}${request.point_of_order ? ":poo" : ""}`} class=${`queue-row ${isMine ? "mine" : ""} ${request.point_of_order ? "poo" : ""}`}
            data-delegation=${request.delegation} data-point-of-order=${request.point_of_order} aria-current=${isMine ? "true" : undefined}>
          <span class="place" data-testid="place">${entry.place}</span>
          <span class="who">
            <bdi class="name">${delegationName(state, request.delegation)}</bdi>
            ${isMine ? html`<span class="you-tag">${t("your_delegation")}</span>` : null}
            ${request.point_of_order ? html`<span class="tag tag-poo">${t("point_of_order")}</span>` : null}
            <span class=${`tag tag-${delegation?.cls}`}>${className(delegation?.cls)}</span>
            ${request.moved_reason ? html`<span class="tag tag-moved" title=${request.moved_reason}>${t("moved")}: ${request.moved_reason}</span>` : null}
            ${now !== null ? html`<${RequestStory} state=${state} request=${request} now=${now} spoke=${views.queue.spoken[request.delegation] ?? 0} />` : null}
          </span>
          ${actions ? html`<span class="row-actions">${actions(request, index)}</span>` : null}
        </li>`;
      })}
    </ol>
    ${queue.length > shown.length ? html`<p class="muted">${t("and_more", { n: queue.length - shown.length })}</p>` : null}
  </section>`;
}
