// The public webcast page (/webcast/<consultation>, no token): the item, the
// speaker, the queue and the captions, from a small JSON snapshot polled once
// a second. No socket: every viewer asks the same URL, which an HTTP cache in
// front of the node answers (docs/webcast.md); If-None-Match makes an
// unchanged snapshot a 304 of a few bytes.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { itemTitle, languageName } from "../names.js";
import { CaptionStrip } from "../parts/captions.js";
import { WebcastArchive, WebcastAudio } from "../parts/webcast_audio.js";

const POLL_MS = 1000;

function useSnapshot(consultation) {
  const [snapshot, setSnapshot] = useState(null);
  const [failure, setFailure] = useState(null);
  useEffect(() => {
    let stopped = false;
    let timer = null;
    const url = `/webcast/${encodeURIComponent(consultation)}/state.json`;
    const poll = async () => {
      try {
        // "no-cache": revalidate every time; the browser sends the ETag and keeps the body on a 304.
        const answer = await fetch(url, { cache: "no-cache" });
        if (answer.ok) {
          const next = await answer.json();
          if (!stopped) {
            setSnapshot(next);
            setFailure(null);
          }
        } else if (!stopped) {
          setFailure((await answer.json()).error?.message ?? answer.statusText);
        }
      } catch (error) {
        if (!stopped) setFailure(String(error));
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    };
    poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [consultation]);
  return { snapshot, failure };
}

export function WebcastPage({ consultation }) {
  const { snapshot, failure } = useSnapshot(consultation);
  if (snapshot === null) {
    return html`<main class="webcast narrow"><p class="card" role="status" data-testid="webcast-status">${failure ?? t("joining")}</p></main>`;
  }
  const { item, speaker, queue } = snapshot;
  let floor;
  if (speaker) {
    floor = html`<p class="screen-speaker" data-testid="webcast-speaker">${speaker.delegation}</p>
      <p class="screen-sub">${speaker.name} · ${languageName(speaker.language)}</p>`;
  } else if (snapshot.granted) {
    floor = html`<p class="screen-speaker">${snapshot.granted}</p><p class="screen-sub">${t("screen_granted")}</p>`;
  } else {
    floor = html`<p class="screen-sub" data-testid="webcast-speaker">${t("nobody_speaking")}</p>`;
  }
  return html`<div class="screen webcast" data-testid="webcast">
    <header class="screen-head"><span>${snapshot.code}</span><span>${snapshot.title}</span></header>
    <section class="screen-item" data-testid="webcast-item">
      ${item ? html`<p class="screen-code">${t("item_number", { n: item.number })} · ${item.code}</p><p class="screen-title">${itemTitle(item)}</p>`
        : html`<p class="screen-title">${t("no_item_yet")}</p>`}
    </section>
    <section class="screen-floor">${floor}</section>
    <${WebcastAudio} consultation=${consultation} sittingOpen=${snapshot.sitting !== null} />
    <section class="screen-captions"><${CaptionStrip} lines=${snapshot.captions} large=${true} /></section>
    <section class="screen-queue">
      <h2>${t("queue")} (${queue.length})</h2>
      <ol data-testid="queue">${queue.slice(0, 8).map((r, i) => html`<li key=${i}>${r.delegation}${r.point_of_order ? html` <span class="tag tag-poo">${t("point_of_order")}</span>` : null}</li>`)}</ol>
    </section>
    <${WebcastArchive} consultation=${consultation} days=${snapshot.archive} />
    ${failure ? html`<p class="muted" role="status">${failure}</p>` : null}
  </div>`;
}
