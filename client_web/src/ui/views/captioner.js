// The captioner's view: type the floor's words one line at a time (Enter
// sends), and correct a recent line within the window the core allows.
import { useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { useNow } from "../hooks.js";
import { act } from "../feedback.js";
import { SpeakerCard } from "../parts/speaker_card.js";
import { latestLines } from "../parts/captions.js";

/** vcc.core.captions: the longest line, and how long a line stays correctable. */
const MAX_LENGTH = 200;
const CORRECTION_WINDOW_MS = 30_000;

export function CaptionerView({ session }) {
  const { state } = session;
  const now = useNow(session, 1000);
  const [text, setText] = useState("");
  const [correcting, setCorrecting] = useState(null);
  const input = useRef(null);
  const send = async (event) => {
    event.preventDefault();
    const line = text.trim();
    if (!line) return;
    const answer = correcting === null
      ? await act(session, "post_caption", { text: line })
      : await act(session, "correct_caption", { line: correcting, text: line });
    if (answer.ok) {
      setText("");
      setCorrecting(null);
    }
    input.current?.focus();
  };
  const correct = (line) => {
    setCorrecting(line.line);
    setText(line.text);
    input.current?.focus();
  };
  const lines = latestLines(state, 12);
  return html`<div class="grid delegate-grid">
    <div class="col-main">
      <section class="card" aria-labelledby="captioner-h">
        <h2 id="captioner-h">${t("captions")}</h2>
        <form onSubmit=${send} class="caption-form">
          <label for="caption-input">${correcting === null ? t("caption_write") : t("caption_correcting", { n: correcting })}</label>
          <input id="caption-input" ref=${input} data-testid="caption-input" maxLength=${MAX_LENGTH} value=${text}
            onInput=${(e) => setText(e.target.value)} autocomplete="off" disabled=${!state.sitting} />
          <div class="row">
            <button type="submit" data-testid="caption-send" disabled=${!state.sitting}>${correcting === null ? t("caption_send") : t("caption_replace")}</button>
            ${correcting !== null ? html`<button type="button" class="secondary" onClick=${() => { setCorrecting(null); setText(""); }}>${t("cancel")}</button>` : null}
            <span class="muted small">${text.length}/${MAX_LENGTH}</span>
          </div>
          ${state.sitting ? html`<p class="muted small">${t("caption_hint")}</p>` : html`<p class="muted">${t("caption_no_sitting")}</p>`}
        </form>
      </section>
      <section class="card" aria-labelledby="caption-lines-h">
        <h2 id="caption-lines-h">${t("caption_recent")}</h2>
        <ol class="caption-lines" data-testid="caption-lines">
          ${lines.map((line) => html`<li key=${line.line} data-line=${line.line}>
            <span>${line.text}</span>
            ${now - line.at <= CORRECTION_WINDOW_MS
              ? html` <button class="secondary small" data-testid=${`caption-correct-${line.line}`} onClick=${() => correct(line)}>${t("caption_correct")}</button>` : null}
          </li>`)}
        </ol>
      </section>
    </div>
    <div class="col-side"><${SpeakerCard} state=${state} views=${session.views} now=${now} /></div>
  </div>`;
}
