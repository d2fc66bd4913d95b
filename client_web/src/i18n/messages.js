// Every language's table, by language code.
import ar from "./ar.js";
import en from "./en.js";
import es from "./es.js";
import fr from "./fr.js";
import ru from "./ru.js";
import zh from "./zh.js";

export const MESSAGES = { ar, zh, en, fr, ru, es };
