// The interface in the six languages of the consultation. The user's choice is
// remembered in localStorage; Arabic is written right to left.
import { MESSAGES } from "./messages.js";

export const UI_LANGUAGES = ["ar", "zh", "en", "fr", "ru", "es"];
/** Each language named in itself, for the language picker. */
export const NATIVE_NAMES = { ar: "العربية", zh: "中文", en: "English", fr: "Français", ru: "Русский", es: "Español" };
const RIGHT_TO_LEFT = new Set(["ar"]);
const STORAGE_KEY = "vcc.language";

const listeners = new Set();
let language = chooseInitial();

function chooseInitial() {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (UI_LANGUAGES.includes(stored)) return stored;
  } catch {
    // Storage can be disabled (private mode); the browser's languages decide then.
  }
  for (const wanted of navigator.languages ?? [navigator.language]) {
    const base = String(wanted).slice(0, 2).toLowerCase();
    if (UI_LANGUAGES.includes(base)) return base;
  }
  return "en";
}

export function currentLanguage() {
  return language;
}

export function isRightToLeft(lang = language) {
  return RIGHT_TO_LEFT.has(lang);
}

export function applyToDocument() {
  document.documentElement.lang = language;
  document.documentElement.dir = isRightToLeft() ? "rtl" : "ltr";
}

export function setLanguage(lang) {
  if (!UI_LANGUAGES.includes(lang)) return;
  language = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not remembered, but still applied.
  }
  applyToDocument();
  for (const listener of listeners) listener(lang);
}

export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const plurals = new Map();

function pluralOf(lang, n) {
  if (!plurals.has(lang)) plurals.set(lang, new Intl.PluralRules(lang));
  return plurals.get(lang).select(n);
}

/**
 * The message `key` in the current language (English if a language lacks it,
 * the key itself if none has it), with `{name}` replaced from `params`. A
 * message with plural forms ({one, few, many, other}) is chosen by `params.n`.
 */
export function t(key, params = {}) {
  let message = MESSAGES[language][key] ?? MESSAGES.en[key];
  if (message === undefined) return key;
  if (typeof message === "object") message = message[pluralOf(language, params.n ?? 0)] ?? message.other;
  return message.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}
