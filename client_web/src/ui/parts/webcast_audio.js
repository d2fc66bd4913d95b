// The webcast's audio: the channel the viewer picks (the floor or a language),
// played from the node's HLS (/webcast/<consultation>/audio/<channel>/index.m3u8,
// docs/webcast.md). Safari plays HLS by itself; Chromium and Firefox do not, so
// hls.js (Media Source Extensions) plays it there, loaded only when needed.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { languageName } from "../names.js";

const CHANNELS = ["floor", "ar", "zh", "en", "fr", "ru", "es"];
const STORAGE_KEY = "vcc.webcast.channel";
const HLS = "application/vnd.apple.mpegurl";
const RETRY_MS = 2000;

function remembered() {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return CHANNELS.includes(value) ? value : "floor";
  } catch {
    return "floor";
  }
}

/** Play `url` in the audio element; returns what stops it. */
async function attach(audio, url, onState) {
  if (audio.canPlayType(HLS)) {
    let retry = null;
    const start = () => {
      audio.src = url;
      audio.play().catch(() => {});
    };
    // No playlist yet (the sitting has just opened, ffmpeg is starting) or the stream broke:
    // the browser's player gives up, so ask again, as hls.js does by itself.
    audio.onerror = () => {
      onState("waiting");
      retry = setTimeout(start, RETRY_MS);
    };
    start();
    return () => {
      clearTimeout(retry);
      audio.onerror = null;
      audio.removeAttribute("src");
      audio.load();
    };
  }
  const { default: Hls } = await import("hls.js");
  if (!Hls.isSupported()) {
    onState("unsupported");
    return () => {};
  }
  // Three segments (3 s) behind the live edge: the latency docs/webcast.md explains.
  const hls = new Hls({ liveSyncDurationCount: 3, manifestLoadingMaxRetry: Infinity, manifestLoadingRetryDelay: RETRY_MS });
  hls.on(Hls.Events.MANIFEST_PARSED, () => audio.play().catch(() => onState("paused")));
  hls.on(Hls.Events.ERROR, (_, data) => {
    // No playlist: no sitting is open. hls.js keeps asking (retries above) and plays when one opens.
    if (data.details === Hls.ErrorDetails.MANIFEST_LOAD_ERROR) onState("waiting");
    else if (data.fatal) hls.recoverMediaError();
  });
  hls.loadSource(url);
  hls.attachMedia(audio);
  return () => hls.destroy();
}

export function WebcastAudio({ consultation, sittingOpen }) {
  const [channel, setChannel] = useState(remembered);
  const [on, setOn] = useState(false);
  const [state, setState] = useState("off");
  const audio = useRef(null);
  useEffect(() => {
    if (!on || !sittingOpen) return undefined;
    let stop = () => {};
    let gone = false;
    setState("loading");
    const url = `/webcast/${encodeURIComponent(consultation)}/audio/${channel}/index.m3u8`;
    attach(audio.current, url, setState).then((s) => (gone ? s() : (stop = s)));
    return () => {
      gone = true;
      stop();
    };
  }, [consultation, channel, on, sittingOpen]);
  const choose = (value) => {
    setChannel(value);
    try {
      localStorage.setItem(STORAGE_KEY, value);
    } catch {
      // Not remembered across visits; still chosen.
    }
  };
  const status = !sittingOpen ? t("webcast_audio_no_sitting") : state === "unsupported" ? t("webcast_audio_unsupported") : state === "waiting" ? t("webcast_audio_waiting") : null;
  return html`<section class="webcast-audio" data-testid="webcast-audio">
    <fieldset class="channel-switch" data-testid="webcast-channels">
      <legend>${t("channel")}</legend>
      ${CHANNELS.map((c) => html`<label class="check" key=${c}><input type="radio" name="webcast-channel" value=${c} checked=${c === channel}
        onChange=${() => choose(c)} data-testid=${`webcast-channel-${c}`} /> ${c === "floor" ? t("floor_channel") : languageName(c)}</label>`)}
    </fieldset>
    <button type="button" data-testid="webcast-listen" disabled=${!sittingOpen} onClick=${() => setOn(!on)}>${on ? t("webcast_audio_stop") : t("webcast_audio_listen")}</button>
    <audio ref=${audio} data-testid="webcast-player" onPlaying=${() => setState("playing")} onWaiting=${() => setState("loading")}></audio>
    ${status ? html`<p class="muted" role="status">${status}</p>` : null}
  </section>`;
}

/** The closed sittings' captions and recordings (archive.json), fetched again when a sitting closes. */
export function WebcastArchive({ consultation, days }) {
  const [sittings, setSittings] = useState([]);
  useEffect(() => {
    if (!days.length) return;
    fetch(`/webcast/${encodeURIComponent(consultation)}/archive.json`, { cache: "no-cache" })
      .then((answer) => (answer.ok ? answer.json() : { sittings: [] }))
      .then((body) => setSittings(body.sittings))
      .catch(() => {});
  }, [consultation, days.join(",")]);
  if (!sittings.length) return null;
  return html`<section class="screen-archive" data-testid="webcast-archive">
    <h2>${t("webcast_archive")}</h2>
    <ul>${sittings.map((s) => html`<li key=${s.day} data-testid=${`webcast-sitting-${s.day}`}>
      <a href=${s.captions}>${t("webcast_sitting_captions", { day: s.day })}</a>
      ${s.recordings.length ? html`<span> · ${t("webcast_recordings")}: ${s.recordings.map((r, i) => html`${i ? ", " : ""}<a key=${r.url} href=${r.url} data-testid="webcast-recording">${r.channel === "floor" ? t("floor_channel") : languageName(r.channel)}</a>`)}</span>` : null}
    </li>`)}</ul>
  </section>`;
}
