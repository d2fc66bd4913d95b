import { html } from "../html.js";
import { NATIVE_NAMES, UI_LANGUAGES, currentLanguage, setLanguage, t } from "../../i18n/index.js";

export function LanguagePicker() {
  return html`<label class="lang-picker">
    <span class="sr-only">${t("interface_language")}</span>
    <select data-testid="language" value=${currentLanguage()} onChange=${(e) => setLanguage(e.currentTarget.value)}>
      ${UI_LANGUAGES.map((lang) => html`<option value=${lang} lang=${lang}>${NATIVE_NAMES[lang]}</option>`)}
    </select>
  </label>`;
}
