// How things of the consultation are named on screen.
import { currentLanguage, t } from "../i18n/index.js";

export function delegationName(state, id) {
  return state.delegations[id]?.name ?? id;
}

/**
 * A name set inside a sentence, isolated (U+2068 ... U+2069) so that its own
 * direction and punctuation stay with it: in Arabic "Orbital Relay Networks
 * Ltd." must not become ".Orbital Relay Networks Ltd". Markup uses <bdi>.
 */
export function isolated(text) {
  return `\u2068${text}\u2069`;
}

export function participantName(state, id) {
  if (id === "@admin") return t("role_admin");
  if (id === "@system") return t("actor_system");
  if (id === "@media") return t("actor_media");
  if (id === "@screen") return t("role_screen");
  return state.participants[id]?.name ?? id;
}

/** The item's title in the interface's language where the circular gives it, else in English. */
export function itemTitle(item) {
  return item.titles?.[currentLanguage()] ?? item.title;
}

/** Says that the title is shown in English when the circular gives none in the interface's language; else "". */
export function titleLanguageNote(item) {
  const lang = currentLanguage();
  return lang === "en" || item.titles?.[lang] ? "" : t("title_shown_in_english");
}

/** The refs (of `refs`, in order) at which a section of the agenda starts, with the section's name. */
export function sectionStarts(state, refs) {
  const starts = new Map();
  let shown = "";
  for (const ref of refs) {
    const section = state.items[ref]?.section ?? "";
    if (section && section !== shown) starts.set(ref, section);
    shown = section;
  }
  return starts;
}

export function className(cls) {
  return t(`class_${cls}`);
}

export function languageName(code) {
  return t(`lang_${code}`);
}

export function roleName(role) {
  return t(`role_${role}`);
}

export function statusName(status) {
  return t(`item_status_${status}`);
}

export function currentItem(state) {
  return state.current_item === null ? null : state.items[String(state.current_item)];
}
