// The secretariat's HTTP endpoints (server/vcc/http_api.py). They take the
// admin token as a bearer token: the token of the admin join link is one; a
// secretariat participant's join token is not, so that person pastes the admin
// token the operator printed (`vcc links`).

export class AdminApi {
  constructor(consultation, token) {
    this.base = `/api/consultations/${encodeURIComponent(consultation)}`;
    this.token = token;
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.token}`, ...extra };
  }

  /** POST a file's text; resolves {ok, data} where data is the JSON answer ({imported} or {error}). */
  async upload(kind, file) {
    const type = file.name.toLowerCase().endsWith(".csv") || file.type === "text/csv" ? "text/csv" : "application/json";
    const response = await fetch(`${this.base}/${kind}`, { method: "POST", headers: this.headers({ "Content-Type": type }), body: await file.text() });
    return { ok: response.ok, data: await answerOf(response) };
  }

  /** GET a file and hand it to the browser as a download. */
  async download(path, filename) {
    const response = await fetch(`${this.base}/${path}`, { headers: this.headers() });
    if (!response.ok) return { ok: false, data: await answerOf(response) };
    const url = URL.createObjectURL(await response.blob());
    const link = Object.assign(document.createElement("a"), { href: url, download: filename });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    return { ok: true };
  }
}

async function answerOf(response) {
  try {
    return await response.json();
  } catch {
    return { error: { code: `http_${response.status}`, message: response.statusText } };
  }
}
