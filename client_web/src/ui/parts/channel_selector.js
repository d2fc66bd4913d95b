// The channel a listener hears. It follows the core's routing: choosing the
// floor language plays the floor itself (never the echoing booth), and the
// provenance says where the sound comes from ("English, relay of French").
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { languageName } from "../names.js";
import { Listening } from "../../net/listening.js";

const STORAGE_KEY = "vcc.channel";

function remembered(channels, fallback) {
  try {
    return channels.includes(localStorage.getItem(STORAGE_KEY)) ? localStorage.getItem(STORAGE_KEY) : fallback;
  } catch {
    return fallback;
  }
}

/** The server's route of a channel (vcc_protocol.views.ChannelRoute), in words. */
function provenanceText(state, r) {
  if (r.kind === "floor") return state.floor_language ? t("prov_floor_in", { language: languageName(state.floor_language) }) : t("prov_floor");
  if (r.kind === "own_language") return t("prov_own_language", { language: languageName(r.channel) });
  if (r.kind === "interpreted") return t("prov_interpreted", { language: languageName(r.channel) });
  return t("prov_relay", { language: languageName(r.channel), via: r.relay.map(languageName).join(" ← ") });
}

export function warningText(w) {
  const booth = languageName(w.booth);
  if (w.own) return w.kind === "muted" ? t("warn_own_muted", { booth }) : t("warn_own_handover", { booth });
  return w.kind === "muted" ? t("warn_relay_muted", { booth }) : t("warn_relay_handover", { booth });
}

/** The chosen channel, played: one connection, switched when the choice changes. */
function useListening(session, channel) {
  const [audio, setAudio] = useState({ status: "connecting" });
  const [level, setLevel] = useState(null);
  const listening = useRef(null);
  useEffect(() => {
    if (!session) return undefined;
    listening.current = new Listening(session, setAudio, setLevel);
    return () => listening.current.dispose();
  }, [session]);
  useEffect(() => {
    listening.current?.choose(channel);
  }, [session, channel]);
  return [audio, level, () => listening.current?.resume()];
}

export function ChannelSelector({ state, views, session = null, defaultChannel = "floor" }) {
  const channels = Object.keys(views.routes);
  const [channel, setChannel] = useState(() => remembered(channels, defaultChannel));
  const [audio, level, resume] = useListening(session, channel);
  const choose = (value) => {
    setChannel(value);
    try {
      localStorage.setItem(STORAGE_KEY, value);
    } catch {
      // Not remembered across visits; still chosen.
    }
  };
  const r = views.routes[channel];
  return html`<section class="card channel-card" aria-labelledby="channel-h">
    <h2 id="channel-h">${t("channel")}</h2>
    <div class="channels" role="radiogroup" aria-labelledby="channel-h" data-testid="channels">
      ${channels.map((c) => html`<label class=${`chip ${c === channel ? "on" : ""}`} key=${c}>
        <input type="radio" name="channel" value=${c} checked=${c === channel} onChange=${() => choose(c)} />
        ${c === "floor" ? t("floor_channel") : languageName(c)}</label>`)}
    </div>
    <p class=${`hearing ${r.kind === "own_language" ? "switched" : ""}`} data-testid="hearing" data-play=${r.play} data-channel=${channel}>
      ${r.kind === "own_language" ? html`<strong>${t("switched_to_floor")}</strong> ` : null}
      ${provenanceText(state, r)}
    </p>
    ${r.warning ? html`<p class="warning" data-testid="route-warning">⚠ ${warningText(r.warning)}</p>` : null}
    ${session && audio.status === "unavailable" ? html`<p class="warning" data-testid="audio-status" data-status="unavailable">${t("audio_unavailable")}</p>` : null}
    ${session && audio.status === "blocked" ? html`<button type="button" data-testid="audio-status" data-status="blocked" onClick=${resume}>${t("audio_play")}</button>` : null}
    ${session && audio.status === "playing" ? html`<p class="muted small playing" data-testid="audio-status" data-status="playing">${t("audio_playing")}
      ${typeof level === "number" ? html`<meter min="0" max="0.5" value=${level} data-testid="hearing-level" data-level=${level} title=${t("audio_level")}></meter>` : null}</p>` : null}
  </section>`;
}
