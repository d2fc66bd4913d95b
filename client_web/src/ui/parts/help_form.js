// Asking the technical team for help (they answer by e-mail, chat or phone).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { act, notify } from "../feedback.js";

export function HelpForm({ session }) {
  const [message, setMessage] = useState("");
  const open = session.state.help_requests[session.me.participant];
  const submit = async (event) => {
    event.preventDefault();
    const answer = await act(session, "request_help", { message: message.trim() || t("help_default_message") });
    if (answer.ok) {
      setMessage("");
      notify(t("help_sent"), "info");
    }
  };
  return html`<section class="card" aria-labelledby="help-h">
    <h2 id="help-h">${t("help_title")}</h2>
    <p>${t("help_intro")}</p>
    ${open ? html`<p class="info" data-testid="help-open">${t("help_open")}</p>` : null}
    <form onSubmit=${submit} class="stack">
      <label>${t("help_message")}<textarea rows="3" maxlength="200" value=${message} onInput=${(e) => setMessage(e.currentTarget.value)}></textarea></label>
      <button type="submit">${t("help_send")}</button>
    </form>
  </section>`;
}
