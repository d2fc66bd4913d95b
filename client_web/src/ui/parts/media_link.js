// The page's own audio links: the delegate's microphone connected while the
// procedure has them on the floor list (the grant opens it at the server, not
// here), and the interpreter's console: hearing the booth's source (the floor,
// or the pivot booth's channel on relay) and speaking into the booth's mix.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { languageName } from "../names.js";
import { Listening } from "../../net/listening.js";
import { Publishing, inFloorMix } from "../../net/publishing.js";

function usePublishing(session, wanted) {
  const [mic, setMic] = useState({ status: "off" });
  const publishing = useRef(null);
  useEffect(() => {
    publishing.current = new Publishing(session, setMic);
    return () => publishing.current.dispose();
  }, [session]);
  useEffect(() => {
    publishing.current.want(wanted);
  }, [session, wanted]);
  return mic;
}

function MicLine({ mic, chair = false }) {
  if (mic.status === "off") return null;
  const text = mic.status === "unavailable" && mic.message ? mic.message : t(`mic_link_${mic.status}${mic.status === "connected" && chair ? "_chair" : ""}`);
  return html`<p class=${mic.status === "connected" ? "muted small" : "warning"} data-testid="mic-link" data-status=${mic.status}>🎙 ${text}</p>`;
}

/** The chair's microphone, always in the floor mix; a delegate's, connected while on the floor list, so the grant is heard at once. */
export function MicrophoneLink({ session }) {
  const mic = usePublishing(session, inFloorMix(session.state, session.me));
  return html`<${MicLine} mic=${mic} chair=${session.me.role === "chair"} />`;
}

/** The interpreter hears the booth's source and speaks into the booth (heard only on duty, microphone open). */
export function BoothAudio({ session, source }) {
  const mic = usePublishing(session, true);
  const [audio, setAudio] = useState({ status: "connecting" });
  const listening = useRef(null);
  useEffect(() => {
    listening.current = new Listening(session, setAudio);
    return () => listening.current.dispose();
  }, [session]);
  useEffect(() => {
    listening.current.choose(source);
  }, [session, source]);
  const hearing = source === "floor" ? t("source_floor") : t("source_relay", { booth: languageName(source) });
  return html`<div class="booth-audio" data-testid="booth-audio" data-source=${source} data-status=${audio.status}>
    <p>${t("booth_hearing", { source: hearing })}</p>
    ${audio.status === "unavailable" ? html`<p class="warning">${t("audio_unavailable")}</p>` : null}
    ${audio.status === "blocked" ? html`<button type="button" onClick=${() => listening.current.resume()}>${t("audio_play")}</button>` : null}
    <${MicLine} mic=${mic} />
  </div>`;
}
