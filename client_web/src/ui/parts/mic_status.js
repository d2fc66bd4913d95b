// The microphone before going live: its permission, and a quick check with the
// input level, so that a delegate who is next can fix it before the grant.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { microphonePermission } from "../../net/browser_info.js";
import { measureMicrophone } from "../../devices/media.js";
import { number } from "../format.js";

export function MicStatus({ session }) {
  const [permission, setPermission] = useState("unknown");
  const [check, setCheck] = useState(null);
  const [level, setLevel] = useState(0);
  useEffect(() => {
    let gone = false;
    const refresh = () => microphonePermission().then((p) => !gone && setPermission(p));
    refresh();
    window.addEventListener("focus", refresh);
    return () => {
      gone = true;
      window.removeEventListener("focus", refresh);
    };
  }, []);
  const run = async () => {
    setCheck("running");
    const result = await measureMicrophone(1500, setLevel);
    setCheck(result);
    setPermission(await microphonePermission());
    session.report({ microphone: result.microphone, input_level: result.level });
  };
  return html`<div class="mic-status" data-testid="mic-status" data-permission=${permission}>
    <span>${t("microphone")}: <strong>${t(`mic_perm_${permission}`)}</strong></span>
    ${check && check !== "running" ? html` · <span>${t(`mic_${check.microphone}`)} (${number(check.level * 100)}%)</span>` : null}
    ${check === "running"
      ? html`<meter min="0" max="0.5" value=${level} aria-label=${t("input_level")}></meter>`
      : html`<button class="secondary small" onClick=${run}>${t("check_microphone")}</button>`}
  </div>`;
}
