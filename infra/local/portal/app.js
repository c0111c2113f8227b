// The Navigator portal for the local stack: plain JavaScript, no build step, no network
// beyond this server. It speaks only the public API (API.md) and, to sign in, the local
// stand-in for Cognito's sign-in page (GET /portal/session).
"use strict";

(() => {
  const SESSION_KEY = "navigator.session";
  const NBSP = "\u00a0";
  const PAGE_SIZE = 20;
  const POLL_MS = 1000;

  // --- Labels --------------------------------------------------------------------------------

  const ROLE_NAMES = {
    parent: "Родитель",
    provider: "Организация",
    payer: "Плательщик",
    operator: "Оператор",
  };
  const HOME = { parent: "#/catalog", provider: "#/provider", payer: "#/payer", operator: "#/operator" };
  // Who reads invoices (a payer and an operator also accept and pay them).
  const INVOICE_ROLES = ["provider", "payer", "operator"];
  // The krai's municipalities offered when a child is registered (any other name may be typed).
  const KRAI_MUNICIPALITIES = [
    "Красноярск", "Норильск", "Ачинск", "Канск", "Железногорск", "Минусинск", "Зеленогорск",
    "Лесосибирск", "Назарово", "Шарыпово", "Дивногорск", "Бородино", "Сосновоборск", "Енисейск",
    "Берёзовский район", "Емельяновский район", "Туруханский район", "Эвенкийский район",
    "Таймырский Долгано-Ненецкий район",
  ];
  const DIRECTIONS = {
    technical: "Техническая",
    natural_science: "Естественнонаучная",
    physical_sports: "Физкультурно-спортивная",
    arts: "Художественная",
    tourism: "Туристско-краеведческая",
    social_humanitarian: "Социально-гуманитарная",
  };
  const FUNDING = { certificate: "По сертификату", free: "Бесплатно" };
  const PROGRAM_STATUS = { draft: "Черновик", published: "Опубликована", archived: "В архиве" };
  // An enrollment is «запись»: its statuses agree with it, whoever the child is.
  const ENROLLMENT_STATUS = { active: "Действует", withdrawn: "Расторгнута", completed: "Завершена" };
  const MONTH_STATUS = { pending: "Ожидает списания", charged: "Списано", cancelled: "Отменено" };
  const CERTIFICATE_STATUS = { active: "Действует", expired: "Срок истёк" };
  const RUN_STATUS = { running: "Выполняется", completed: "Завершено" };
  const INVOICE_KIND = { advance: "аванс", final: "итоговый" };
  const INVOICE_STATUS = { formed: "сформирован", accepted: "принят", paid: "оплачен" };
  const LEDGER_TYPES = {
    issue: "Начисление номинала",
    reserve: "Резервирование",
    debit: "Списание за месяц",
    release: "Возврат резерва в остаток",
    expire: "Сгорание остатка",
  };
  const MONTHS = [
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
  ];
  const ERROR_TEXT = {
    network: "Нет связи с сервером. Проверьте подключение и повторите попытку.",
    bad_request: "Сервер не понял запрос.",
    invalid_cursor: "Список изменился. Обновите страницу и повторите поиск.",
    unauthorized: "Сессия истекла или недействительна. Войдите снова.",
    forbidden: "Недостаточно прав для этого действия.",
    not_found: "Не найдено.",
    validation_error: "Проверьте правильность заполнения.",
    invalid_snils: "СНИЛС указан неверно: проверьте номер и контрольное число.",
    payload_too_large: "Слишком большой запрос.",
    unavailable: "Сервис временно недоступен. Повторите попытку чуть позже.",
    child_already_registered: "Ребёнок с таким СНИЛС уже зарегистрирован.",
    no_seats: "Свободных мест нет.",
    already_enrolled: "Ребёнок уже записан на эту программу.",
    age_not_eligible: "Возраст ребёнка не подходит для этой программы.",
    program_ended: "Программа закончилась: месяцев обучения не осталось.",
    no_active_period: "На эти месяцы не установлен период персонифицированного финансирования.",
    copay_required: "Сертификат покрывает не всю стоимость: нужно согласие на доплату.",
    no_certificates_left:
      "Сертификаты на этот период закончились: бюджет муниципалитета, в котором живёт ребёнок, " +
      "уже распределён. Бесплатные программы по-прежнему доступны.",
    municipality_taken: "Этот муниципалитет уже обслуживает другой плательщик.",
    limit_below_issued: "Лимит не может быть меньше числа уже выданных сертификатов.",
    idempotency_key_reused: "Повторный запрос с другими данными. Попробуйте ещё раз.",
    request_in_progress: "Запрос уже обрабатывается. Подождите немного.",
    month_already_debited: "Этот месяц уже списан: отчёт о выполнении закрыт.",
    month_cancelled: "Этот месяц отменён.",
    month_not_closed: "Месяц ещё не закончился: списывать за него рано.",
    period_in_use: "По периоду уже выданы сертификаты: его даты менять нельзя.",
    period_overlap: "Период пересекается с другим периодом.",
    capacity_below_taken: "Мест не может быть меньше, чем уже занято.",
    program_has_enrollments: "У программы есть действующие записи.",
    provider_not_registered: "Организация не зарегистрирована.",
    provider_exists: "Организация с таким идентификатором уже есть.",
    session_role: "Не удалось войти.",
    month_not_started: "Месяц ещё не начался: аванс за него формировать рано.",
    month_not_charged:
      "Месяц ещё не списан полностью: итоговые счета формируются после завершённого списания.",
    invalid_invoice_status: "Счёт сейчас в другом статусе: это действие к нему неприменимо.",
  };
  const FIELD_LABELS = {
    full_name: "ФИО",
    birth_date: "Дата рождения",
    snils: "СНИЛС",
    "idempotency-key": "Ключ повторного запроса",
    child_id: "Ребёнок",
    program_id: "Программа",
    accept_copay: "Согласие на доплату",
    percent: "Процент выполнения",
    month: "Месяц",
    q: "Поиск",
    age: "Возраст",
    direction: "Направленность",
    municipality: "Муниципалитет",
    funding: "Финансирование",
    has_seats: "Свободные места",
    limit: "Размер страницы",
    cursor: "Страница",
    period_id: "Период",
    starts_on: "Начало периода",
    ends_on: "Конец периода",
    nominal_kopecks: "Номинал",
    role: "Роль",
    body: "Запрос",
    name: "Наименование",
    inn: "ИНН",
    municipalities: "Муниципалитеты",
    advance_percent: "Аванс, %",
    certificate_limit: "Лимит сертификатов",
    payer_id: "Плательщик",
    certificates_issued: "Выдано сертификатов",
    paid_on: "Дата оплаты",
    payment_order: "Платёжное поручение",
    kind: "Вид счёта",
    status: "Статус",
    provider_id: "Организация",
  };
  // The API explains a failing field in English; the common explanations, in Russian.
  const PROBLEM_TEXT = [
    [/^Field required$/i, () => "обязательное поле"],
    [/^has a wrong checksum$/, () => "неверное контрольное число"],
    [/^must be a string XXX-XXX-XXX YY$/, () => "нужен формат XXX-XXX-XXX YY"],
    [/less than or equal to (\d+)/i, (m) => `должно быть не больше ${m[1]}`],
    [/greater than or equal to (\d+)/i, (m) => `должно быть не меньше ${m[1]}`],
    [/greater than (\d+)/i, (m) => `должно быть больше ${m[1]}`],
    [/at most (\d+) characters?/i, (m) => `не длиннее ${m[1]} символов`],
    [/at least (\d+) characters?/i, (m) => `не короче ${m[1]} символов`],
    [/valid integer/i, () => "должно быть целым числом"],
    [/valid string/i, () => "должно быть строкой"],
    [/valid boolean/i, () => "должно быть да или нет"],
    [/^must be a real date/, () => "нужна настоящая дата ГГГГ-ММ-ДД"],
    [/^must be a (real )?month/, () => "нужен настоящий месяц ГГГГ-ММ"],
    [/^must not be in the future$/, () => "не может быть в будущем"],
    [/^must not be after today$/, () => "не может быть позже сегодняшнего дня"],
    [/^must be the 1st of a month$/, () => "должно быть первым числом месяца"],
    [/^must be the last day of a month$/, () => "должно быть последним днём месяца"],
    [/^must not be after ends_on$/, () => "не может быть позже окончания"],
    [/^Input should be (.+)$/i, (m) => `недопустимое значение (${m[1]})`],
  ];
  const DETAIL_LABELS = {
    certificate_total_kopecks: "Оплатит сертификат",
    copay_total_kopecks: "Доплата родителя",
    periods: "Пересекается с периодами",
  };

  // --- State ---------------------------------------------------------------------------------

  const state = {
    session: loadSession(),
    view: 0, // bumped on every navigation: answers for an older view are dropped
    timers: new Set(),
    catalogFilters: {},
    municipalities: new Set(),
    programs: new Map(), // program_id -> Program, from lists and single reads
    children: null, // the signed-in parent's children, once loaded
  };

  function loadSession() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
      return saved && saved.token && ROLE_NAMES[saved.role] ? saved : null;
    } catch {
      return null;
    }
  }

  function setSession(session) {
    state.session = session;
    state.children = null;
    if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(SESSION_KEY);
  }

  // --- Formatting ----------------------------------------------------------------------------

  /** Integer kopecks as "1 234,56 ₽": integer arithmetic only, never a float. */
  function formatKopecks(value) {
    if (!Number.isSafeInteger(value)) return "—";
    let kopecks = BigInt(value);
    const sign = kopecks < 0n ? "−" : "";
    if (kopecks < 0n) kopecks = -kopecks;
    const roubles = (kopecks / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, NBSP);
    const rest = (kopecks % 100n).toString().padStart(2, "0");
    return `${sign}${roubles},${rest}${NBSP}₽`;
  }

  /** "30 000", "30000,5" or "30000.50" roubles as integer kopecks; null if not an amount. */
  function parseRoubles(text) {
    const compact = String(text).replace(/[\s\u00a0\u202f₽]/g, "").replace(".", ",");
    const match = /^(\d{1,13})(?:,(\d{1,2}))?$/.exec(compact);
    if (!match) return null;
    const kopecks = BigInt(match[1]) * 100n + BigInt((match[2] || "").padEnd(2, "0"));
    return kopecks <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(kopecks) : null;
  }

  function formatMonth(month) {
    const match = /^(\d{4})-(\d{2})$/.exec(month || "");
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 12) return month || "—";
    return `${MONTHS[Number(match[2]) - 1]} ${match[1]}`;
  }

  function formatMonths(first, last) {
    return first === last ? formatMonth(first) : `${formatMonth(first)} — ${formatMonth(last)}`;
  }

  function formatDate(date) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date || "");
    return match ? `${match[3]}.${match[2]}.${match[1]}` : date || "—";
  }

  function formatTimestamp(stamp) {
    if (!stamp) return "—";
    const date = new Date(stamp);
    if (Number.isNaN(date.getTime())) return stamp;
    return date.toLocaleString("ru-RU", { dateStyle: "short", timeStyle: "short" });
  }

  function plural(n, one, few, many) {
    const tens = n % 100;
    const units = n % 10;
    if (tens >= 11 && tens <= 14) return many;
    if (units === 1) return one;
    if (units >= 2 && units <= 4) return few;
    return many;
  }

  function years(n) {
    return `${n}${NBSP}${plural(n, "год", "года", "лет")}`;
  }

  function isoToday() {
    const now = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  }

  function previousMonth() {
    const now = new Date();
    const month = now.getMonth() === 0 ? 12 : now.getMonth();
    const year = now.getMonth() === 0 ? now.getFullYear() - 1 : now.getFullYear();
    return `${year}-${String(month).padStart(2, "0")}`;
  }

  function ageToday(birthDate) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate || "");
    if (!match) return null;
    const today = isoToday();
    let age = Number(today.slice(0, 4)) - Number(match[1]);
    if (today.slice(5) < `${match[2]}-${match[3]}`) age -= 1;
    return age;
  }

  /** "12345678964" or "123 456 789 64" as "123-456-789 64"; anything else as typed. */
  function normalizeSnils(text) {
    const trimmed = String(text).trim();
    const digits = trimmed.replace(/[\s-]/g, "");
    if (/^[0-9]{11}$/.test(digits)) {
      return `${digits.slice(0, 3)}-${digits.slice(3, 6)}-${digits.slice(6, 9)} ${digits.slice(9)}`;
    }
    return trimmed;
  }

  // --- DOM -----------------------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on") && typeof value === "function") {
        element.addEventListener(name.slice(2), value);
      } else if (name === "class") {
        element.className = value;
      } else if (value === true) {
        element.setAttribute(name, "");
      } else {
        element.setAttribute(name, String(value));
      }
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      element.append(child instanceof Node ? child : String(child));
    }
    return element;
  }

  function section(title, ...children) {
    return h("section", { class: "panel" }, title ? h("h2", {}, title) : null, ...children);
  }

  function field(label, control, hint) {
    return h(
      "label",
      { class: "field" },
      h("span", { class: "label" }, label),
      control,
      hint ? h("small", { class: "hint" }, hint) : null,
    );
  }

  function select(name, options, selected) {
    return h(
      "select",
      { name },
      options.map(([value, text]) =>
        h("option", { value, selected: String(value) === String(selected ?? "") }, text),
      ),
    );
  }

  function badge(text, kind) {
    return h("span", { class: `badge${kind ? ` badge-${kind}` : ""}` }, text);
  }

  /** A definition list of [label, value, field name] rows; the field name marks the value. */
  function facts(rows) {
    return h(
      "dl",
      { class: "facts" },
      rows
        .filter(Boolean)
        .map(([label, value, name]) =>
          h("div", {}, h("dt", {}, label), h("dd", { "data-field": name }, value)),
        ),
    );
  }

  function tableWrap(head, body) {
    return h(
      "div",
      { class: "table-wrap" },
      h("table", { class: "stack" }, h("thead", {}, h("tr", {}, head.map((t) => h("th", {}, t)))), body),
    );
  }

  /** A numeric cell of `row`. */
  function num(value) {
    return { value, className: "num" };
  }

  /** A table row whose cells carry their column's label: on a phone, rows stack as cards. */
  function row(attrs, head, cells) {
    return h(
      "tr",
      attrs,
      cells.map((cell, index) => {
        const plain = cell instanceof Node || cell === null || typeof cell !== "object";
        const wrapped = plain ? { value: cell, className: null } : cell;
        return h("td", { class: wrapped.className, "data-label": head[index] || null }, wrapped.value);
      }),
    );
  }

  const SCHEDULE_HEAD = ["Месяц", "Сертификат", "Доплата", "Выполнение", "Статус", "Списано"];
  const LEDGER_HEAD = ["№", "Дата", "Операция", "Сумма", "Месяц", "Запись"];
  const PROGRAMS_HEAD = ["Программа", "Статус", "Финансирование", "Цена в месяц", "Сроки", "Занято", ""];
  const PERIODS_HEAD = ["Период", "Начало", "Окончание", "Номинал сертификата"];

  function slot() {
    return h("div", { class: "msg", "aria-live": "polite" });
  }

  function showOk(target, text) {
    target.replaceChildren(h("div", { class: "alert alert-ok", role: "status" }, text));
  }

  function showInfo(target, text) {
    target.replaceChildren(h("p", { class: "muted" }, text));
  }

  function showError(target, error) {
    target.replaceChildren(errorBox(error));
    const box = target.firstElementChild;
    if (box && box.scrollIntoView) box.scrollIntoView({ block: "nearest" });
  }

  function errorBox(error) {
    const err = error instanceof ApiError ? error : new ApiError(0, "client", String(error));
    const text = ERROR_TEXT[err.code] || err.message || "Что-то пошло не так.";
    const lines = [];
    const details = err.details && typeof err.details === "object" ? err.details : {};
    for (const item of Array.isArray(details.fields) ? details.fields : []) {
      const label = FIELD_LABELS[item.field] || item.field;
      lines.push(h("li", {}, h("strong", {}, `${label}: `), problemText(item.problem)));
    }
    for (const [key, value] of Object.entries(details)) {
      if (key === "fields") continue;
      const label = DETAIL_LABELS[key] || FIELD_LABELS[key] || key;
      lines.push(h("li", {}, h("strong", {}, `${label}: `), detailText(key, value)));
    }
    const code = err.status ? `Код ошибки: ${err.code} (HTTP ${err.status})` : null;
    return h(
      "div",
      { class: "alert alert-error", role: "alert", "data-code": err.code },
      h("strong", {}, text),
      lines.length ? h("ul", {}, lines) : null,
      code ? h("small", { class: "code" }, code) : null,
    );
  }

  function detailText(key, value) {
    if (key.endsWith("_kopecks") && Number.isSafeInteger(value)) return formatKopecks(value);
    if (typeof value === "string" || typeof value === "number") return String(value);
    if (Array.isArray(value) && value.every((v) => typeof v !== "object")) return value.join(", ");
    return JSON.stringify(value);
  }

  function problemText(problem) {
    const text = String(problem ?? "");
    for (const [pattern, say] of PROBLEM_TEXT) {
      const match = pattern.exec(text);
      if (match) return say(match);
    }
    return text;
  }

  function markInvalid(form, error) {
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const fields = (error && error.details && error.details.fields) || [];
    for (const item of fields) {
      const input = form.elements.namedItem(item.field);
      if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
    }
  }

  async function busy(button, work) {
    button.disabled = true;
    button.classList.add("busy");
    try {
      return await work();
    } finally {
      button.disabled = false;
      button.classList.remove("busy");
    }
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function later(ms, work) {
    const timer = setTimeout(() => {
      state.timers.delete(timer);
      work();
    }, ms);
    state.timers.add(timer);
  }

  function current(view) {
    return view === state.view;
  }

  // --- The API -------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = details;
    }
  }

  /** The request of `api` and `download`: the bearer token, the query; a lost answer as network. */
  async function send(method, path, options) {
    const headers = { Accept: "application/json", ...(options.headers || {}) };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (state.session && options.auth !== false) {
      headers.Authorization = `Bearer ${state.session.token}`;
    }
    let url = path;
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query || {})) {
      if (value !== undefined && value !== null && value !== "") query.append(key, String(value));
    }
    if (query.toString()) url += `?${query}`;
    try {
      return await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, "network", ERROR_TEXT.network);
    }
  }

  function parseJson(text) {
    try {
      return text ? JSON.parse(text) : null;
    } catch {
      return null;
    }
  }

  /** The API's refusal as an ApiError; a 401 also ends the session. */
  function refusal(response, data) {
    const error = (data && data.error) || {};
    const failure = new ApiError(
      response.status,
      error.code || `http_${response.status}`,
      error.message || response.statusText,
      error.details,
    );
    if (response.status === 401 && state.session) {
      setSession(null);
      renderChrome();
    }
    return failure;
  }

  async function api(method, path, options = {}) {
    const response = await send(method, path, options);
    const data = parseJson(await response.text());
    if (!response.ok) throw refusal(response, data);
    return data;
  }

  /** The file name of a Content-Disposition header (RFC 6266: filename* first), or null. */
  function dispositionName(header) {
    const text = header || "";
    const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(text);
    if (extended) {
      try {
        return decodeURIComponent(extended[1].trim());
      } catch {
        // fall through to the plain name
      }
    }
    const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/.exec(text);
    if (!plain) return null;
    return (plain[2] !== undefined ? plain[2] : plain[1]).trim() || null;
  }

  /**
   * A file from the API saved as the browser's download: fetched with the bearer token (a link
   * could not carry it), kept as a blob and handed over through an object URL. A 303 to the
   * stored copy of a large file is followed by fetch itself.
   */
  async function download(path, options, fallbackName) {
    const response = await send("GET", path, { ...options, headers: { Accept: "*/*" } });
    if (!response.ok) throw refusal(response, parseJson(await response.text()));
    const blob = await response.blob();
    const name = dispositionName(response.headers.get("Content-Disposition")) || fallbackName;
    const href = URL.createObjectURL(blob);
    const link = h("a", { href, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    // The download has taken the blob by the time a minute has passed.
    setTimeout(() => URL.revokeObjectURL(href), 60_000);
    return name;
  }

  async function fetchAll(path, query) {
    const items = [];
    let cursor = null;
    do {
      const page = await api("GET", path, { query: { ...query, limit: 100, cursor } });
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return items;
  }

  function idempotencyKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** POST /enrollments under one Idempotency-Key; a lost answer is retried with the same key. */
  async function postEnrollment(body) {
    const key = idempotencyKey();
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await api("POST", "/enrollments", { body, headers: { "Idempotency-Key": key } });
      } catch (error) {
        const retry =
          error.code === "network" || error.code === "request_in_progress" || error.status === 503;
        if (!retry || attempt >= 3) throw error;
        await sleep(700 * attempt);
      }
    }
  }

  async function loadChildren(fresh) {
    if (!state.children || fresh) state.children = await fetchAll("/children");
    return state.children;
  }

  async function loadProgram(programId) {
    if (state.programs.has(programId)) return state.programs.get(programId);
    const program = await api("GET", `/programs/${encodeURIComponent(programId)}`);
    state.programs.set(programId, program);
    return program;
  }

  /** A list with "Показать ещё": each page appended to `container`. */
  function pager(container, fetchPage, renderItem, emptyText) {
    const more = h("button", { type: "button", class: "secondary more", hidden: true }, "Показать ещё");
    const msg = slot();
    const view = state.view;
    let cursor = null;
    let shown = 0;
    async function next() {
      msg.replaceChildren();
      try {
        const page = await fetchPage(cursor);
        if (!current(view)) return;
        for (const item of page.items) container.append(renderItem(item));
        shown += page.items.length;
        cursor = page.next_cursor;
        more.hidden = !cursor;
        if (!shown) showInfo(msg, emptyText);
      } catch (error) {
        if (current(view)) showError(msg, error);
      }
    }
    more.addEventListener("click", () => busy(more, next));
    return { footer: h("div", { class: "pager" }, msg, more), next };
  }

  // --- Dialogs -------------------------------------------------------------------------------

  function openDialog(title) {
    const dialog = document.getElementById("dialog");
    const body = h("div", { class: "dialog-body" });
    const heading = h("h2", { id: "dialog-title" }, title);
    dialog.replaceChildren(heading, body);
    if (!dialog.open) dialog.showModal();
    return {
      body,
      title: (text) => heading.replaceChildren(text),
      close: () => dialog.open && dialog.close(),
    };
  }

  function confirmDialog(title, text, okLabel) {
    return new Promise((resolve) => {
      const dialog = openDialog(title);
      const finish = (answer) => {
        dialog.close();
        resolve(answer);
      };
      document.getElementById("dialog").addEventListener("close", () => resolve(false), {
        once: true,
      });
      dialog.body.append(
        h("p", {}, text),
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", class: "confirm", onclick: () => finish(true) }, okLabel),
          h("button", { type: "button", class: "secondary", onclick: () => finish(false) }, "Отмена"),
        ),
      );
    });
  }

  // --- Chrome: session bar and tabs ----------------------------------------------------------

  function renderChrome(path) {
    const bar = document.getElementById("session");
    const session = state.session;
    if (session) {
      bar.replaceChildren(
        h(
          "span",
          { class: "who", "data-role": session.role },
          "Вы вошли: ",
          h("strong", {}, ROLE_NAMES[session.role]),
        ),
        h("button", { type: "button", class: "secondary small", onclick: signOut }, "Выйти"),
      );
    } else {
      bar.replaceChildren(
        h("span", { class: "who" }, "Войти как:"),
        ...Object.keys(ROLE_NAMES).map((role) => signInButton(role, "small")),
      );
    }
    const links = [["catalog", "Каталог"]];
    if (session && session.role === "parent") {
      links.push(["children", "Дети"], ["enrollments", "Записи"], ["certificates", "Сертификаты"]);
    }
    if (session && session.role === "provider") links.push(["provider", "Мои программы"]);
    if (session && session.role === "operator") {
      links.push(["operator", "Управление"], ["operator/payers", "Плательщики"]);
    }
    if (session && session.role === "payer") links.push(["payer", "Бюджеты"]);
    if (session && INVOICE_ROLES.includes(session.role)) links.push(["invoices", "Счета"]);
    // The deepest tab the page lies under ("operator/payers" is not "operator").
    const here = path || "catalog";
    const under = links.map(([t]) => t).filter((t) => here === t || here.startsWith(`${t}/`));
    const active = under.sort((a, b) => b.length - a.length)[0] || here.split("/")[0];
    document.getElementById("nav").replaceChildren(
      ...links.map(([target, text]) =>
        h("a", { href: `#/${target}`, "aria-current": target === active ? "page" : null }, text),
      ),
    );
  }

  function signInButton(role, size) {
    return h(
      "button",
      {
        type: "button",
        class: `signin${size ? ` ${size}` : ""}`,
        "data-role": role,
        onclick: (event) => busy(event.currentTarget, () => signIn(role)),
      },
      ROLE_NAMES[role],
    );
  }

  async function signIn(role) {
    try {
      const session = await api("GET", "/portal/session", { query: { role }, auth: false });
      setSession(session);
    } catch (error) {
      const main = document.getElementById("view");
      const msg = slot();
      main.prepend(msg);
      showError(msg, error);
      return;
    }
    navigate(HOME[role]);
  }

  function signOut() {
    setSession(null);
    navigate("#/catalog");
  }

  function navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  }

  // --- Catalog -------------------------------------------------------------------------------

  function renderCatalog(main) {
    const saved = state.catalogFilters;
    const municipalities = h("datalist", { id: "municipalities" });
    const form = h(
      "form",
      { class: "filters", id: "catalog-filters", role: "search" },
      field(
        "Поиск",
        h("input", {
          name: "q",
          type: "search",
          maxlength: 200,
          value: saved.q,
          placeholder: "Например, робототехника",
          autocomplete: "off",
        }),
      ),
      field(
        "Направленность",
        select("direction", [["", "Любая"], ...Object.entries(DIRECTIONS)], saved.direction),
      ),
      field(
        "Муниципалитет",
        h("input", {
          name: "municipality",
          list: "municipalities",
          maxlength: 100,
          value: saved.municipality,
          placeholder: "Любой",
        }),
      ),
      field(
        "Возраст ребёнка",
        h("input", {
          name: "age",
          type: "number",
          min: 0,
          max: 18,
          step: 1,
          inputmode: "numeric",
          value: saved.age,
          placeholder: "Любой",
        }),
      ),
      field(
        "Финансирование",
        select("funding", [["", "Любое"], ...Object.entries(FUNDING)], saved.funding),
      ),
      h(
        "label",
        { class: "check" },
        h("input", { type: "checkbox", name: "has_seats", checked: saved.has_seats }),
        " Только со свободными местами",
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit" }, "Найти"),
        h("button", { type: "reset", class: "secondary" }, "Сбросить"),
      ),
      municipalities,
    );
    const results = h("div", { id: "catalog-results" });
    main.append(
      section(
        null,
        h("h1", {}, "Каталог программ"),
        h(
          "p",
          { class: "muted" },
          "Кружки и секции для детей от 5 до 17 лет. Обучение по сертификату оплачивает государство.",
        ),
        form,
      ),
      results,
    );
    const fillMunicipalities = () =>
      municipalities.replaceChildren(
        ...[...state.municipalities].sort().map((name) => h("option", { value: name })),
      );
    const search = () => {
      const data = new FormData(form);
      const filters = {};
      for (const name of ["q", "direction", "municipality", "age", "funding"]) {
        const value = String(data.get(name) || "").trim();
        if (value) filters[name] = value;
      }
      if (data.get("has_seats")) filters.has_seats = "true";
      state.catalogFilters = { ...filters, has_seats: Boolean(filters.has_seats) };
      const list = h("ul", { class: "cards", id: "programs" });
      const { footer, next } = pager(
        list,
        (cursor) => api("GET", "/programs", { query: { ...filters, limit: PAGE_SIZE, cursor } }),
        (program) => {
          state.municipalities.add(program.municipality);
          return programCard(program);
        },
        "Ничего не найдено. Попробуйте изменить условия поиска.",
      );
      results.replaceChildren(list, footer);
      return next().then(fillMunicipalities);
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(form.querySelector("button[type=submit]"), search);
    });
    form.addEventListener("reset", () => {
      // Clear the saved filters too; the controls keep their defaults otherwise.
      setTimeout(() => {
        for (const control of form.elements) {
          if (control.type === "checkbox") control.checked = false;
          else if (control.name) control.value = "";
        }
        search();
      });
    });
    fillMunicipalities();
    search();
  }

  function programCard(program) {
    state.programs.set(program.program_id, program);
    const card = h("li", { class: "card program", "data-program-id": program.program_id });
    const role = state.session && state.session.role;
    const price =
      program.funding === "free"
        ? "Бесплатно"
        : `${formatKopecks(program.price_per_month_kopecks)} в месяц`;
    card.append(
      h("h3", {}, program.title),
      h("p", { class: "muted" }, program.provider_name),
      h(
        "div",
        { class: "badges" },
        badge(DIRECTIONS[program.direction] || program.direction),
        badge(FUNDING[program.funding] || program.funding, program.funding),
      ),
      facts([
        ["Возраст", `${program.age_min}–${years(program.age_max)}`],
        ["Стоимость", price, "price_per_month_kopecks"],
        ["Сроки", formatMonths(program.start_month, program.end_month)],
        ["Свободных мест", `${program.seats_left} из ${program.capacity}`, "seats_left"],
        ["Адрес", [program.municipality, program.address].filter(Boolean).join(", ")],
      ]),
      program.description
        ? h("details", {}, h("summary", {}, "Описание"), h("p", {}, program.description))
        : "",
    );
    if (role === "parent") {
      card.append(
        h(
          "button",
          { type: "button", class: "enroll", onclick: () => openEnrollDialog(program, card) },
          "Записать ребёнка",
        ),
      );
    } else if (!role) {
      card.append(h("p", { class: "hint" }, "Чтобы записать ребёнка, войдите как родитель."));
    }
    return card;
  }

  async function openEnrollDialog(program, card) {
    const dialog = openDialog(`Запись: ${program.title}`);
    const msg = slot();
    dialog.body.append(msg);
    showInfo(msg, "Загружаем список детей…");
    let children;
    try {
      children = await loadChildren(true);
    } catch (error) {
      showError(msg, error);
      return;
    }
    if (!children.length) {
      dialog.body.replaceChildren(
        h("p", {}, "Сначала добавьте ребёнка в разделе «Дети»."),
        h(
          "div",
          { class: "actions" },
          h("a", { class: "button", href: "#/children" }, "Добавить ребёнка"),
          h("button", { type: "button", class: "secondary", onclick: dialog.close }, "Закрыть"),
        ),
      );
      return;
    }
    msg.replaceChildren();
    const pick = select(
      "child_id",
      children.map((c) => [c.child_id, `${c.full_name}, ${formatDate(c.birth_date)}`]),
    );
    const submit = h("button", { type: "submit" }, "Записать");
    const form = h(
      "form",
      { id: "enroll-form" },
      field("Ребёнок", pick),
      facts([
        [
          "Стоимость",
          program.funding === "free"
            ? "Бесплатно"
            : `${formatKopecks(program.price_per_month_kopecks)} в месяц`,
        ],
        ["Сроки программы", formatMonths(program.start_month, program.end_month)],
      ]),
      msg,
      h(
        "div",
        { class: "actions" },
        submit,
        h("button", { type: "button", class: "secondary", onclick: dialog.close }, "Отмена"),
      ),
    );
    dialog.body.replaceChildren(form);

    const attempt = async (acceptCopay, target) => {
      const body = { child_id: pick.value, program_id: program.program_id };
      if (acceptCopay) body.accept_copay = true;
      try {
        const enrollment = await postEnrollment(body);
        showEnrolled(dialog, program, enrollment, card);
      } catch (error) {
        if (error.code === "copay_required" && !acceptCopay) showCopay(error.details || {});
        else if (error.code === "no_certificates_left") showNoCertificates(dialog, pick.value);
        else showError(target, error);
      }
    };
    const showCopay = (details) => {
      dialog.title("Нужна доплата");
      const copayMsg = slot();
      const confirm = h("button", { type: "button", id: "accept-copay" }, "Согласен, записать");
      confirm.addEventListener("click", () => busy(confirm, () => attempt(true, copayMsg)));
      dialog.body.replaceChildren(
        h(
          "p",
          {},
          `Сертификат покрывает не всю стоимость программы «${program.title}». `,
          "Оставшуюся часть оплачивает родитель.",
        ),
        facts([
          [
            "Оплатит сертификат",
            formatKopecks(details.certificate_total_kopecks),
            "certificate_total_kopecks",
          ],
          [
            "Доплата родителя за весь курс",
            formatKopecks(details.copay_total_kopecks),
            "copay_total_kopecks",
          ],
        ]),
        h("p", {}, "Записать ребёнка с доплатой?"),
        copayMsg,
        h(
          "div",
          { class: "actions" },
          confirm,
          h("button", { type: "button", class: "secondary", onclick: dialog.close }, "Отказаться"),
        ),
      );
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, () => attempt(false, msg));
    });
  }

  /** The payer's budget is spent: why, in Russian, and the free programs instead. */
  function showNoCertificates(dialog, childId) {
    const child = (state.children || []).find((c) => c.child_id === childId);
    const municipality = child && child.municipality ? child.municipality : "";
    const list = h("ul", { class: "free-programs", id: "free-programs" });
    const listMsg = slot();
    showInfo(listMsg, "Подбираем бесплатные программы…");
    const showFree = h(
      "button",
      {
        type: "button",
        id: "show-free-programs",
        onclick: () => {
          state.catalogFilters = { funding: "free", municipality };
          dialog.close();
          navigate("#/catalog");
        },
      },
      "Показать все бесплатные программы",
    );
    dialog.title("Сертификаты закончились");
    dialog.body.replaceChildren(
      h(
        "div",
        { class: "alert alert-error", role: "alert", "data-code": "no_certificates_left" },
        h("p", {}, ERROR_TEXT.no_certificates_left),
      ),
      h(
        "p",
        {},
        "Сертификат выдаётся за счёт бюджета муниципалитета" +
          (municipality ? ` «${municipality}»` : "") +
          ": на этот период его лимит сертификатов исчерпан, новые сертификаты не выдаются. " +
          "Записаться на бесплатную программу можно и без сертификата.",
      ),
      h("h3", {}, "Бесплатные программы"),
      list,
      listMsg,
      h(
        "div",
        { class: "actions" },
        showFree,
        h("button", { type: "button", class: "secondary", onclick: dialog.close }, "Закрыть"),
      ),
    );
    const query = { funding: "free", limit: 5 };
    if (municipality) query.municipality = municipality;
    api("GET", "/programs", { query })
      .then((page) => {
        const items = page.items || [];
        list.replaceChildren(
          ...items.map((p) =>
            h("li", { "data-program-id": p.program_id }, `${p.title} (${p.municipality})`),
          ),
        );
        if (items.length) listMsg.replaceChildren();
        else showInfo(listMsg, "Рядом бесплатных программ не нашлось: посмотрите весь каталог.");
      })
      .catch((error) => showError(listMsg, error));
  }

  function showEnrolled(dialog, program, enrollment, card) {
    const child = (state.children || []).find((c) => c.child_id === enrollment.child_id);
    const certificate = enrollment.certificate;
    dialog.title("Ребёнок записан");
    dialog.body.replaceChildren(
      h("div", { class: "alert alert-ok", role: "status" }, `Запись на «${program.title}» оформлена.`),
      facts([
        ["Ребёнок", child ? child.full_name : enrollment.child_id],
        ["Месяцы обучения", formatMonths(enrollment.start_month, enrollment.end_month)],
        [
          "Оплатит сертификат",
          formatKopecks(enrollment.certificate_total_kopecks),
          "certificate_total_kopecks",
        ],
        ["Доплата родителя", formatKopecks(enrollment.copay_total_kopecks), "copay_total_kopecks"],
        certificate ? ["Сертификат", `№${NBSP}${certificate.number}`] : null,
        certificate
          ? ["Зарезервировано", formatKopecks(certificate.reserved_kopecks), "reserved_kopecks"]
          : null,
        certificate
          ? ["Остаток на сертификате", formatKopecks(certificate.balance_kopecks), "balance_kopecks"]
          : null,
      ]),
      h(
        "div",
        { class: "actions" },
        certificate
          ? h(
              "a",
              {
                class: "button",
                href: `#/certificates/${encodeURIComponent(certificate.certificate_id)}`,
              },
              "Открыть сертификат",
            )
          : null,
        h("a", { class: "button secondary", href: "#/enrollments" }, "Мои записи"),
        h("button", { type: "button", class: "secondary", onclick: dialog.close }, "Закрыть"),
      ),
    );
    // The single read is fresh; the list may lag.
    api("GET", `/programs/${encodeURIComponent(program.program_id)}`)
      .then((fresh) => {
        state.programs.set(fresh.program_id, fresh);
        const seats = card.querySelector('[data-field="seats_left"]');
        if (seats) seats.textContent = `${fresh.seats_left} из ${fresh.capacity}`;
      })
      .catch(() => {});
  }

  // --- Parent: children ----------------------------------------------------------------------

  function renderChildren(main) {
    const list = h("ul", { class: "cards", id: "children" });
    const listMsg = slot();
    const formMsg = slot();
    const submit = h("button", { type: "submit" }, "Добавить");
    const form = h(
      "form",
      { id: "child-form", class: "form" },
      field(
        "ФИО ребёнка",
        h("input", { name: "full_name", required: true, maxlength: 200, autocomplete: "off" }),
      ),
      field("Дата рождения", h("input", { name: "birth_date", type: "date", required: true, max: isoToday() })),
      field(
        "Муниципалитет проживания",
        h("input", {
          name: "municipality",
          list: "krai-municipalities",
          required: true,
          maxlength: 100,
          autocomplete: "off",
          placeholder: "Например, Красноярск",
        }),
        "От него зависит, из чьего бюджета оплачивается сертификат.",
      ),
      h(
        "datalist",
        { id: "krai-municipalities" },
        KRAI_MUNICIPALITIES.map((name) => h("option", { value: name })),
      ),
      field(
        "СНИЛС",
        h("input", {
          name: "snils",
          required: true,
          inputmode: "numeric",
          autocomplete: "off",
          placeholder: "123-456-789 64",
        }),
        "Формат: XXX-XXX-XXX YY",
      ),
      formMsg,
      h("div", { class: "actions" }, submit),
    );
    main.append(
      section(null, h("h1", {}, "Мои дети"), list, listMsg),
      section("Добавить ребёнка", form),
    );
    const view = state.view;
    const show = (children) => {
      list.replaceChildren(...children.map(childCard));
      if (!children.length) showInfo(listMsg, "Дети пока не добавлены.");
      else listMsg.replaceChildren();
    };
    loadChildren(true)
      .then((children) => current(view) && show(children))
      .catch((error) => current(view) && showError(listMsg, error));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        const data = new FormData(form);
        const body = {
          full_name: String(data.get("full_name") || "").trim(),
          birth_date: String(data.get("birth_date") || ""),
          municipality: String(data.get("municipality") || "").trim(),
          snils: normalizeSnils(data.get("snils") || ""),
        };
        try {
          const child = await api("POST", "/children", { body });
          markInvalid(form, null);
          form.reset();
          showOk(formMsg, `${child.full_name} добавлен(а). Теперь можно записать ребёнка на программу.`);
          show(await loadChildren(true));
        } catch (error) {
          markInvalid(form, error);
          showError(formMsg, error);
        }
      });
    });
  }

  function childCard(child) {
    const age = ageToday(child.birth_date);
    return h(
      "li",
      { class: "card child", "data-child-id": child.child_id },
      h("h3", {}, child.full_name),
      facts([
        ["Дата рождения", formatDate(child.birth_date)],
        age !== null && age >= 0 ? ["Возраст", years(age)] : null,
        child.municipality ? ["Муниципалитет", child.municipality, "municipality"] : null,
        ["СНИЛС", child.snils_masked, "snils_masked"],
      ]),
      h(
        "div",
        { class: "actions" },
        h("a", { class: "button secondary", href: "#/catalog" }, "Найти программу"),
        h(
          "a",
          { class: "button secondary", href: `#/enrollments?child=${encodeURIComponent(child.child_id)}` },
          "Записи",
        ),
      ),
    );
  }

  // --- Parent: enrollments -------------------------------------------------------------------

  async function renderEnrollments(main, params) {
    const childId = params.get("child") || "";
    const list = h("ul", { class: "cards wide", id: "enrollments" });
    const msg = slot();
    const filter = select("child", [["", "Все дети"]], childId);
    filter.addEventListener("change", () => {
      navigate(filter.value ? `#/enrollments?child=${encodeURIComponent(filter.value)}` : "#/enrollments");
    });
    main.append(section(null, h("h1", {}, "Записи на программы"), field("Ребёнок", filter), msg, list));
    const view = state.view;
    let children = [];
    try {
      children = await loadChildren();
    } catch (error) {
      if (current(view)) showError(msg, error);
    }
    if (!current(view)) return;
    for (const child of children) {
      filter.append(h("option", { value: child.child_id, selected: child.child_id === childId }, child.full_name));
    }
    const names = new Map(children.map((c) => [c.child_id, c.full_name]));
    const { footer, next } = pager(
      list,
      (cursor) =>
        api("GET", "/enrollments", { query: { child_id: childId, limit: PAGE_SIZE, cursor } }),
      (enrollment) => enrollmentCard(enrollment, { names }),
      "Записей пока нет. Выберите программу в каталоге.",
    );
    main.querySelector(".panel").append(footer);
    await next();
  }

  /** An enrollment as a card; a parent may withdraw, a provider reports completeness. */
  function enrollmentCard(enrollment, options) {
    const provider = Boolean(options.provider);
    // A provider knows the program already; the roster names children by their ids only.
    const title = h("h3", {}, provider ? `Ребёнок ${enrollment.child_id}` : enrollment.program_id);
    const msg = slot();
    const card = h("li", {
      class: "card enrollment",
      "data-enrollment-id": enrollment.enrollment_id,
      "data-status": enrollment.status,
    });
    const replaceWith = (updated, note) => {
      const fresh = enrollmentCard(updated, options);
      card.replaceWith(fresh);
      if (note) showOk(fresh.querySelector(".msg"), note);
    };
    const who = provider
      ? `Программа ${enrollment.program_id}`
      : (options.names && options.names.get(enrollment.child_id)) || enrollment.child_id;
    card.append(
      title,
      h("p", { class: "muted" }, who),
      h(
        "div",
        { class: "badges" },
        badge(ENROLLMENT_STATUS[enrollment.status] || enrollment.status, enrollment.status),
      ),
      facts([
        ["Номер записи", enrollment.enrollment_id],
        ["Месяцы", formatMonths(enrollment.start_month, enrollment.end_month)],
        ["Стоимость в месяц", formatKopecks(enrollment.price_per_month_kopecks)],
        [
          "Оплатит сертификат",
          formatKopecks(enrollment.certificate_total_kopecks),
          "certificate_total_kopecks",
        ],
        ["Доплата родителя", formatKopecks(enrollment.copay_total_kopecks), "copay_total_kopecks"],
        ["Оформлена", formatTimestamp(enrollment.created_at)],
      ]),
      scheduleTable(enrollment, provider, msg, replaceWith),
      msg,
    );
    if (!provider) {
      const actions = h("div", { class: "actions" });
      if (enrollment.certificate_id) {
        actions.append(
          h(
            "a",
            {
              class: "button secondary",
              href: `#/certificates/${encodeURIComponent(enrollment.certificate_id)}`,
            },
            "Сертификат",
          ),
        );
      }
      if (enrollment.status === "active") {
        const withdraw = h("button", { type: "button", class: "danger withdraw" }, "Отчислить");
        withdraw.addEventListener("click", async () => {
          const sure = await confirmDialog(
            "Отчислить ребёнка?",
            "Текущий месяц оплачивается как обычно. Следующие месяцы будут отменены, " +
              "их резерв вернётся на сертификат, а место освободится.",
            "Отчислить",
          );
          if (!sure) return;
          await busy(withdraw, async () => {
            try {
              const updated = await api(
                "POST",
                `/enrollments/${encodeURIComponent(enrollment.enrollment_id)}/withdraw`,
              );
              replaceWith(updated, "Ребёнок отчислен. Резерв за отменённые месяцы возвращён.");
            } catch (error) {
              showError(msg, error);
            }
          });
        });
        actions.append(withdraw);
      }
      card.append(actions);
    }
    if (!provider) {
      const program = state.programs.get(enrollment.program_id);
      if (program) title.textContent = program.title;
      else {
        loadProgram(enrollment.program_id)
          .then((p) => {
            title.textContent = p.title;
          })
          .catch(() => {
            title.textContent = `Программа ${enrollment.program_id}`;
          });
      }
    }
    return card;
  }

  function scheduleTable(enrollment, provider, msg, replaceWith) {
    const rows = (enrollment.schedule || []).map((month) => {
      let completeness = `${month.completeness_percent}${NBSP}%`;
      if (provider && month.status === "pending" && enrollment.status !== "completed") {
        completeness = completenessForm(enrollment, month, msg, replaceWith);
      }
      return row({ "data-month": month.month, "data-status": month.status }, SCHEDULE_HEAD, [
        formatMonth(month.month),
        num(formatKopecks(month.certificate_kopecks)),
        num(formatKopecks(month.copay_kopecks)),
        completeness,
        MONTH_STATUS[month.status] || month.status,
        num(formatKopecks(month.charged_kopecks)),
      ]);
    });
    return h(
      "details",
      { class: "schedule", open: provider },
      h("summary", {}, "График оплаты по месяцам"),
      tableWrap(SCHEDULE_HEAD, h("tbody", {}, rows)),
    );
  }

  function completenessForm(enrollment, month, msg, replaceWith) {
    const input = h("input", {
      name: "percent",
      type: "number",
      min: 0,
      max: 100,
      step: 1,
      value: month.completeness_percent,
      inputmode: "numeric",
      "aria-label": `Выполнение за ${formatMonth(month.month)}, %`,
    });
    const save = h("button", { type: "submit", class: "small" }, "Сохранить");
    const form = h("form", { class: "inline" }, input, h("span", {}, "%"), save);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const percent = Number(input.value);
      if (input.value.trim() === "" || !Number.isInteger(percent)) {
        showError(msg, new ApiError(0, "client", "Укажите целое число процентов от 0 до 100."));
        return;
      }
      busy(save, async () => {
        try {
          const updated = await api(
            "PUT",
            `/enrollments/${encodeURIComponent(enrollment.enrollment_id)}/completeness/${month.month}`,
            { body: { percent } },
          );
          replaceWith(updated, `Выполнение за ${formatMonth(month.month)} сохранено: ${percent}${NBSP}%.`);
        } catch (error) {
          showError(msg, error);
        }
      });
    });
    return form;
  }

  // --- Parent: certificates ------------------------------------------------------------------

  function certificateFacts(certificate) {
    return facts([
      ["Номинал", formatKopecks(certificate.nominal_kopecks), "nominal_kopecks"],
      ["Плательщик", certificate.payer_id === "region" ? "Краевой бюджет" : certificate.payer_id, "payer_id"],
      ["Остаток", formatKopecks(certificate.balance_kopecks), "balance_kopecks"],
      ["Зарезервировано", formatKopecks(certificate.reserved_kopecks), "reserved_kopecks"],
      ["Потрачено", formatKopecks(certificate.spent_kopecks), "spent_kopecks"],
      ["Сгорело", formatKopecks(certificate.expired_kopecks), "expired_kopecks"],
      ["Действует", `с ${formatDate(certificate.valid_from)} по ${formatDate(certificate.valid_to)}`],
    ]);
  }

  async function renderCertificates(main) {
    const list = h("ul", { class: "cards", id: "certificates" });
    const msg = slot();
    main.append(
      section(
        null,
        h("h1", {}, "Сертификаты"),
        h(
          "p",
          { class: "muted" },
          "Сертификат выдаётся автоматически при первой записи на программу по сертификату.",
        ),
        msg,
        list,
      ),
    );
    const view = state.view;
    try {
      const [certificates, children] = await Promise.all([
        fetchAll("/certificates"),
        loadChildren().catch(() => []),
      ]);
      if (!current(view)) return;
      const names = new Map(children.map((c) => [c.child_id, c.full_name]));
      list.replaceChildren(
        ...certificates.map((c) =>
          h(
            "li",
            { class: "card certificate", "data-certificate-id": c.certificate_id },
            h("h3", {}, "Сертификат ", h("span", { class: "cert-number" }, `№${NBSP}${c.number}`)),
            h("p", { class: "muted" }, names.get(c.child_id) || c.child_id),
            h("div", { class: "badges" }, badge(CERTIFICATE_STATUS[c.status] || c.status, c.status)),
            certificateFacts(c),
            h(
              "div",
              { class: "actions" },
              h(
                "a",
                { class: "button", href: `#/certificates/${encodeURIComponent(c.certificate_id)}` },
                "Движение средств",
              ),
            ),
          ),
        ),
      );
      if (!certificates.length) showInfo(msg, "Сертификатов пока нет.");
    } catch (error) {
      if (current(view)) showError(msg, error);
    }
  }

  async function renderCertificate(main, _params, certificateId) {
    const msg = slot();
    const head = h("div", {});
    const body = h("tbody", { id: "ledger" });
    const panel = section(
      null,
      h("a", { href: "#/certificates", class: "back" }, "← Все сертификаты"),
      head,
      msg,
    );
    main.append(panel);
    const view = state.view;
    let certificate;
    try {
      certificate = await api("GET", `/certificates/${encodeURIComponent(certificateId)}`);
    } catch (error) {
      if (current(view)) showError(msg, error);
      return;
    }
    if (!current(view)) return;
    const children = await loadChildren().catch(() => []);
    const child = children.find((c) => c.child_id === certificate.child_id);
    head.replaceChildren(
      h(
        "h1",
        { id: "certificate-title" },
        "Сертификат ",
        h("span", { class: "cert-number" }, `№${NBSP}${certificate.number}`),
      ),
      h("p", { class: "muted" }, child ? child.full_name : certificate.child_id),
      h(
        "div",
        { class: "badges" },
        badge(CERTIFICATE_STATUS[certificate.status] || certificate.status, certificate.status),
      ),
      certificateFacts(certificate),
    );
    const { footer, next } = pager(
      body,
      (cursor) =>
        api("GET", `/certificates/${encodeURIComponent(certificateId)}/ledger`, {
          query: { limit: PAGE_SIZE, cursor },
        }),
      (entry) =>
        row({ "data-type": entry.type, "data-seq": entry.seq }, LEDGER_HEAD, [
          num(entry.seq),
          formatTimestamp(entry.created_at),
          LEDGER_TYPES[entry.type] || entry.type,
          num(formatKopecks(entry.amount_kopecks)),
          entry.month ? formatMonth(entry.month) : "—",
          { value: entry.enrollment_id || "—", className: "id" },
        ]),
      "Операций пока нет.",
    );
    main.append(
      section(
        "Движение средств",
        tableWrap(LEDGER_HEAD, body),
        footer,
      ),
    );
    await next();
  }

  // --- Provider ------------------------------------------------------------------------------

  async function renderProvider(main) {
    const providerId = state.session.provider_id;
    const name = h("p", { class: "muted", id: "provider-name" }, providerId || "");
    const body = h("tbody", { id: "provider-programs" });
    const { footer, next } = pager(
      body,
      (cursor) =>
        api("GET", `/providers/${encodeURIComponent(providerId)}/programs`, {
          query: { limit: PAGE_SIZE, cursor },
        }),
      (program) => {
        state.programs.set(program.program_id, program);
        return row({ "data-program-id": program.program_id }, PROGRAMS_HEAD, [
          { value: program.title, className: "title" },
          PROGRAM_STATUS[program.status] || program.status,
          FUNDING[program.funding] || program.funding,
          num(formatKopecks(program.price_per_month_kopecks)),
          formatMonths(program.start_month, program.end_month),
          num(`${program.seats_taken} из ${program.capacity}`),
          h(
            "a",
            {
              class: "button small roster",
              href: `#/provider/programs/${encodeURIComponent(program.program_id)}`,
            },
            "Список группы",
          ),
        ]);
      },
      "Программ пока нет.",
    );
    main.append(
      section(
        null,
        h("h1", {}, "Мои программы"),
        name,
        tableWrap(PROGRAMS_HEAD, body),
        footer,
      ),
    );
    const view = state.view;
    api("GET", `/providers/${encodeURIComponent(providerId)}`)
      .then((provider) => current(view) && name.replaceChildren(provider.name))
      .catch(() => {});
    await next();
  }

  async function renderRoster(main, _params, programId) {
    const title = h("h1", {}, `Программа ${programId}`);
    const summary = h("div", {});
    const list = h("ul", { class: "cards wide", id: "roster" });
    const { footer, next } = pager(
      list,
      (cursor) =>
        api("GET", `/programs/${encodeURIComponent(programId)}/enrollments`, {
          query: { limit: PAGE_SIZE, cursor },
        }),
      (enrollment) => enrollmentCard(enrollment, { provider: true }),
      "В группе пока никого нет.",
    );
    main.append(
      section(
        null,
        h("a", { href: "#/provider", class: "back" }, "← Мои программы"),
        title,
        summary,
        h(
          "p",
          { class: "muted" },
          "Укажите процент фактически оказанных услуг за месяц до его списания (по умолчанию 100 %).",
        ),
      ),
      section("Список группы", list, footer),
    );
    const program = state.programs.get(programId);
    if (program) {
      title.textContent = program.title;
      summary.append(
        facts([
          ["Статус", PROGRAM_STATUS[program.status] || program.status],
          ["Сроки", formatMonths(program.start_month, program.end_month)],
          ["Занято мест", `${program.seats_taken} из ${program.capacity}`],
        ]),
      );
    }
    await next();
  }

  // --- Operator ------------------------------------------------------------------------------

  function renderOperator(main) {
    main.append(h("h1", { class: "page-title" }, "Управление"));
    main.append(periodsPanel(), debitPanel(), reconciliationPanel());
  }

  function periodsPanel() {
    const body = h("tbody", { id: "periods" });
    const msg = slot();
    const formMsg = slot();
    const submit = h("button", { type: "submit" }, "Сохранить период");
    const form = h(
      "form",
      { id: "period-form", class: "form grid" },
      field("Идентификатор", h("input", { name: "period_id", required: true, placeholder: "2027-2028" })),
      field("Начало", h("input", { name: "starts_on", type: "date", required: true })),
      field("Окончание", h("input", { name: "ends_on", type: "date", required: true })),
      field(
        "Номинал, ₽",
        h("input", { name: "nominal", required: true, inputmode: "decimal", placeholder: "30 000" }),
      ),
      formMsg,
      h("div", { class: "actions" }, submit),
    );
    const view = state.view;
    const load = async () => {
      try {
        const periods = await fetchAll("/periods");
        if (!current(view)) return;
        body.replaceChildren(
          ...periods.map((p) =>
            row({ "data-period-id": p.period_id }, PERIODS_HEAD, [
              p.period_id,
              formatDate(p.starts_on),
              formatDate(p.ends_on),
              num(formatKopecks(p.nominal_kopecks)),
            ]),
          ),
        );
        if (!periods.length) showInfo(msg, "Периодов пока нет.");
        else msg.replaceChildren();
      } catch (error) {
        if (current(view)) showError(msg, error);
      }
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const nominal = parseRoubles(data.get("nominal") || "");
      if (nominal === null) {
        showError(formMsg, new ApiError(0, "client", "Номинал: укажите сумму в рублях, например 30 000 или 30 000,50."));
        return;
      }
      const periodId = String(data.get("period_id") || "").trim();
      busy(submit, async () => {
        try {
          await api("PUT", `/periods/${encodeURIComponent(periodId)}`, {
            body: {
              starts_on: String(data.get("starts_on")),
              ends_on: String(data.get("ends_on")),
              nominal_kopecks: nominal,
            },
          });
          markInvalid(form, null);
          showOk(formMsg, `Период ${periodId} сохранён.`);
          await load();
        } catch (error) {
          markInvalid(form, error);
          showError(formMsg, error);
        }
      });
    });
    load();
    return section(
      "Периоды финансирования",
      tableWrap(PERIODS_HEAD, body),
      msg,
      h("h3", {}, "Добавить или изменить период"),
      form,
    );
  }

  function debitPanel() {
    const report = h("div", { id: "debit-report" });
    const msg = slot();
    const month = h("input", { name: "month", type: "month", required: true, value: previousMonth() });
    const start = h("button", { type: "submit" }, "Запустить списание");
    const show = h("button", { type: "button", class: "secondary" }, "Показать отчёт");
    const form = h(
      "form",
      { id: "debit-form", class: "form" },
      field("Месяц", month, "Списать можно только за закончившийся месяц."),
      h("div", { class: "actions" }, start, show),
    );
    const view = state.view;
    const render = (run) => {
      if (!current(view)) return;
      report.replaceChildren(debitReport(run));
      if (run.status === "running") {
        later(POLL_MS, () =>
          api("GET", `/debit-runs/${encodeURIComponent(run.month)}`)
            .then(render)
            .catch((error) => current(view) && showError(msg, error)),
        );
      }
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      msg.replaceChildren();
      busy(start, async () => {
        try {
          render(await api("POST", "/debit-runs", { body: { month: month.value } }));
        } catch (error) {
          showError(msg, error);
        }
      });
    });
    show.addEventListener("click", () => {
      msg.replaceChildren();
      busy(show, async () => {
        try {
          render(await api("GET", `/debit-runs/${encodeURIComponent(month.value)}`));
        } catch (error) {
          if (error.code === "not_found") {
            report.replaceChildren();
            showInfo(msg, `За ${formatMonth(month.value)} списание ещё не запускалось.`);
          } else showError(msg, error);
        }
      });
    });
    return section("Ежемесячное списание", form, msg, report);
  }

  function debitReport(run) {
    return h(
      "div",
      { class: "card report", "data-status": run.status, "data-month": run.month },
      h("h3", {}, `Списание за ${formatMonth(run.month)}`),
      h(
        "div",
        { class: "badges" },
        badge(RUN_STATUS[run.status] || run.status, run.status),
        run.status === "running" ? h("span", { class: "muted" }, "отчёт обновляется…") : null,
      ),
      facts([
        ["К списанию (месяцев обучения)", run.due_count, "due_count"],
        ["Списано", run.charged_count, "charged_count"],
        ["Уже было списано", run.already_charged_count, "already_charged_count"],
        ["Ошибок", run.failed_count, "failed_count"],
        ["Списано средств", formatKopecks(run.charged_kopecks), "charged_kopecks"],
        ["Возвращено на сертификаты", formatKopecks(run.released_kopecks), "released_kopecks"],
        ["Начало", formatTimestamp(run.started_at)],
        ["Окончание", formatTimestamp(run.finished_at)],
      ]),
    );
  }

  function reconciliationPanel() {
    const result = h("div", { id: "reconciliation" });
    const msg = slot();
    const check = h("button", { type: "button" }, "Проверить");
    check.addEventListener("click", () =>
      busy(check, async () => {
        msg.replaceChildren();
        try {
          const report = await api("GET", "/reconciliation");
          const mismatches = report.mismatches || [];
          result.replaceChildren(
            h(
              "div",
              { class: `card report ${mismatches.length ? "bad" : "good"}` },
              facts([
                ["Проверено сертификатов", report.certificates_checked, "certificates_checked"],
                ["Расхождений", mismatches.length, "mismatches"],
              ]),
              mismatches.length
                ? h("ol", { class: "mismatches" }, mismatches.map(mismatchItem))
                : h("p", { class: "alert alert-ok" }, "Расхождений нет: состояние сертификатов сходится с журналом."),
            ),
          );
        } catch (error) {
          showError(msg, error);
        }
      }),
    );
    return section(
      "Сверка",
      h(
        "p",
        { class: "muted" },
        "Состояние каждого сертификата сверяется с его журналом операций и графиками записей.",
      ),
      h("div", { class: "actions" }, check),
      msg,
      result,
    );
  }

  function mismatchItem(mismatch) {
    if (!mismatch || typeof mismatch !== "object") return h("li", {}, String(mismatch));
    return h(
      "li",
      {},
      Object.entries(mismatch).map(([key, value]) =>
        h(
          "div",
          {},
          h("strong", {}, `${FIELD_LABELS[key] || key}: `),
          detailText(key, value),
        ),
      ),
    );
  }

  // --- Payers and budgets -------------------------------------------------------------------

  const PAYERS_HEAD = ["Плательщик", "Наименование", "ИНН", "Муниципалитеты", "Аванс"];
  const BUDGETS_HEAD = [
    "Плательщик",
    "Период",
    "Номинал",
    "Лимит",
    "Выдано",
    "Осталось",
    "Обязательства",
  ];

  function budgetRow(b) {
    return row(
      { "data-payer-id": b.payer_id, "data-period-id": b.period_id },
      BUDGETS_HEAD,
      [
        b.payer_id,
        b.period_id,
        num(formatKopecks(b.nominal_kopecks)),
        num(String(b.certificate_limit)),
        { value: String(b.certificates_issued), className: "num issued" },
        { value: String(b.certificates_left), className: b.certificates_left ? "num left" : "num left none" },
        num(formatKopecks(b.nominal_committed_kopecks)),
      ],
    );
  }

  async function loadBudgets(payerIds) {
    const lists = await Promise.all(
      payerIds.map((payerId) => fetchAll(`/payers/${encodeURIComponent(payerId)}/budgets`)),
    );
    return lists.flat();
  }

  function renderPayers(main) {
    main.append(h("h1", { class: "page-title" }, "Плательщики и бюджеты"));
    const payersBody = h("tbody", { id: "payers" });
    const budgetsBody = h("tbody", { id: "budgets" });
    const msg = slot();
    const payerMsg = slot();
    const budgetMsg = slot();
    const payerSubmit = h("button", { type: "submit" }, "Сохранить плательщика");
    const payerForm = h(
      "form",
      { id: "payer-form", class: "form grid" },
      field("Идентификатор", h("input", { name: "payer_id", required: true, placeholder: "kansk" })),
      field("Наименование", h("input", { name: "name", required: true, maxlength: 300 })),
      field("ИНН", h("input", { name: "inn", inputmode: "numeric", placeholder: "10 или 12 цифр" })),
      field(
        "Муниципалитеты",
        h("input", { name: "municipalities", placeholder: "Канск, Иланский район" }),
        "Через запятую. Для краевого бюджета (region) оставьте пустым.",
      ),
      field("Аванс, %", h("input", { name: "advance_percent", type: "number", min: 0, max: 80, value: 80 })),
      payerMsg,
      h("div", { class: "actions" }, payerSubmit),
    );
    const budgetSubmit = h("button", { type: "submit" }, "Сохранить бюджет");
    const payerPick = h("select", { name: "payer_id", required: true });
    const budgetForm = h(
      "form",
      { id: "budget-form", class: "form grid" },
      field("Плательщик", payerPick),
      field("Период", h("input", { name: "period_id", required: true, placeholder: "2026-2027" })),
      field(
        "Номинал, ₽",
        h("input", { name: "nominal", required: true, inputmode: "decimal", placeholder: "30 000" }),
      ),
      field(
        "Лимит сертификатов",
        h("input", { name: "certificate_limit", type: "number", min: 1, max: 10000000, required: true }),
      ),
      budgetMsg,
      h("div", { class: "actions" }, budgetSubmit),
    );
    const view = state.view;
    const load = async () => {
      try {
        const payers = await fetchAll("/payers");
        const budgets = await loadBudgets(payers.map((p) => p.payer_id));
        if (!current(view)) return;
        payersBody.replaceChildren(
          ...payers.map((p) =>
            row({ "data-payer-id": p.payer_id }, PAYERS_HEAD, [
              p.payer_id,
              p.name,
              p.inn || "—",
              p.municipalities.length ? p.municipalities.join(", ") : "все остальные",
              num(`${p.advance_percent}${NBSP}%`),
            ]),
          ),
        );
        const picked = payerPick.value; // a reload keeps the operator's choice
        payerPick.replaceChildren(
          ...payers.map((p) => h("option", { value: p.payer_id, selected: p.payer_id === picked }, p.name)),
        );
        budgetsBody.replaceChildren(...budgets.map(budgetRow));
        msg.replaceChildren();
      } catch (error) {
        if (current(view)) showError(msg, error);
      }
    };
    payerForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(payerForm);
      const payerId = String(data.get("payer_id") || "").trim();
      const names = String(data.get("municipalities") || "")
        .split(",")
        .map((n) => n.trim())
        .filter(Boolean);
      const inn = String(data.get("inn") || "").trim();
      const body = {
        name: String(data.get("name") || "").trim(),
        inn: inn || null,
        advance_percent: Number(data.get("advance_percent") || 80),
      };
      if (payerId !== "region") body.municipalities = names;
      busy(payerSubmit, async () => {
        try {
          await api("PUT", `/payers/${encodeURIComponent(payerId)}`, { body });
          markInvalid(payerForm, null);
          showOk(payerMsg, `Плательщик ${payerId} сохранён.`);
          await load();
        } catch (error) {
          markInvalid(payerForm, error);
          showError(payerMsg, error);
        }
      });
    });
    budgetForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(budgetForm);
      const nominal = parseRoubles(data.get("nominal") || "");
      if (nominal === null) {
        showError(budgetMsg, new ApiError(0, "client", "Номинал: укажите сумму в рублях, например 30 000."));
        return;
      }
      const payerId = String(data.get("payer_id") || "");
      const periodId = String(data.get("period_id") || "").trim();
      busy(budgetSubmit, async () => {
        try {
          await api(
            "PUT",
            `/payers/${encodeURIComponent(payerId)}/budgets/${encodeURIComponent(periodId)}`,
            { body: { nominal_kopecks: nominal, certificate_limit: Number(data.get("certificate_limit")) } },
          );
          markInvalid(budgetForm, null);
          showOk(budgetMsg, `Бюджет ${payerId} на ${periodId} сохранён.`);
          await load();
        } catch (error) {
          markInvalid(budgetForm, error);
          showError(budgetMsg, error);
        }
      });
    });
    load();
    main.append(
      section("Плательщики", tableWrap(PAYERS_HEAD, payersBody), msg, h("h3", {}, "Добавить или изменить"), payerForm),
      section(
        "Бюджеты",
        h("p", { class: "muted" }, "Сколько сертификатов каждый плательщик оплачивает в периоде."),
        tableWrap(BUDGETS_HEAD, budgetsBody),
        h("h3", {}, "Установить бюджет"),
        budgetForm,
      ),
    );
  }

  async function renderPayer(main) {
    const payerId = state.session.payer_id;
    const card = h("div", { id: "payer-card" });
    const body = h("tbody", { id: "budgets" });
    const msg = slot();
    main.append(
      h("h1", { class: "page-title" }, "Бюджеты плательщика"),
      card,
      section("Бюджеты по периодам", tableWrap(BUDGETS_HEAD, body), msg),
    );
    const payer = await api("GET", `/payers/${encodeURIComponent(payerId)}`);
    card.replaceChildren(
      section(
        payer.name,
        facts([
          ["ИНН", payer.inn || "—", "inn"],
          ["Муниципалитеты", payer.municipalities.join(", ") || "все остальные", "municipalities"],
          ["Аванс", `${payer.advance_percent}${NBSP}%`, "advance_percent"],
        ]),
      ),
    );
    const budgets = await fetchAll(`/payers/${encodeURIComponent(payerId)}/budgets`);
    body.replaceChildren(...budgets.map(budgetRow));
    if (!budgets.length) showInfo(msg, "Бюджетов пока нет.");
  }

  // --- Invoices: settlement with providers --------------------------------------------------

  const LINES_HEAD = [
    "№",
    "Сертификат",
    "Договор",
    "Программа",
    "Месяц",
    "По сертификату",
    "Выполнение",
    "Сумма",
  ];

  /** The invoice list's columns: the other party of the caller, both for an operator. */
  function invoiceColumns() {
    const role = state.session && state.session.role;
    const columns = [
      [
        "Счёт",
        (inv) => ({
          value: h(
            "a",
            { class: "open", href: `#/invoices/${encodeURIComponent(inv.invoice_id)}` },
            `№${NBSP}${inv.number}`,
          ),
          className: "number",
        }),
      ],
      ["Вид", (inv) => INVOICE_KIND[inv.kind] || inv.kind],
      ["Месяц", (inv) => formatMonth(inv.month)],
    ];
    const party = (name) => ({ value: name, className: "title" });
    if (role !== "payer") columns.push(["Плательщик", (inv) => party(inv.payer_name)]);
    if (role !== "provider") columns.push(["Организация", (inv) => party(inv.provider_name)]);
    columns.push(
      ["Строк", (inv) => num(String(inv.lines_count))],
      ["Сумма", (inv) => ({ value: formatKopecks(inv.amount_kopecks), className: "num amount" })],
      ["Статус", (inv) => badge(INVOICE_STATUS[inv.status] || inv.status, inv.status)],
    );
    return columns;
  }

  /** A table of invoices from GET /invoices with `filters`, paged. */
  function invoiceTable(filters, id, emptyText) {
    const columns = invoiceColumns();
    const head = columns.map(([title]) => title);
    const body = h("tbody", { id });
    const { footer, next } = pager(
      body,
      (cursor) => api("GET", "/invoices", { query: { ...filters, limit: PAGE_SIZE, cursor } }),
      (inv) =>
        row(
          {
            "data-invoice-id": inv.invoice_id,
            "data-kind": inv.kind,
            "data-month": inv.month,
            "data-status": inv.status,
          },
          head,
          columns.map(([, cell]) => cell(inv)),
        ),
      emptyText,
    );
    return { element: h("div", {}, tableWrap(head, body), footer), next };
  }

  function renderInvoices(main, params) {
    const role = state.session.role;
    main.append(h("h1", { class: "page-title" }, "Счета"));
    const listSlot = h("div", {});
    const filters = {};
    for (const name of ["month", "kind", "status"]) {
      const value = params.get(name);
      if (value) filters[name] = value;
    }
    const form = h(
      "form",
      { id: "invoice-filters", class: "filters" },
      field("Месяц", h("input", { name: "month", type: "month", value: filters.month })),
      field("Вид", select("kind", [["", "Любой"], ...Object.entries(INVOICE_KIND)], filters.kind)),
      field(
        "Статус",
        select("status", [["", "Любой"], ...Object.entries(INVOICE_STATUS)], filters.status),
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit" }, "Показать"),
        h("button", { type: "reset", class: "secondary" }, "Сбросить"),
      ),
    );
    // The filters live in the address, so that "back" from an invoice returns to the same list.
    const go = (data) => {
      const query = new URLSearchParams();
      for (const name of ["month", "kind", "status"]) {
        const value = String(data.get(name) || "").trim();
        if (value) query.set(name, value);
      }
      navigate(query.toString() ? `#/invoices?${query}` : "#/invoices");
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      go(new FormData(form));
    });
    form.addEventListener("reset", (event) => {
      event.preventDefault();
      go(new FormData());
    });
    const intro = {
      provider: "Счета плательщиков за обучение по сертификатам в ваших программах.",
      payer: "Счета организаций за обучение по сертификатам: примите счёт после проверки и отметьте оплату.",
      operator: "Все счета, новые месяцы сначала.",
    }[role];
    const load = () => {
      const table = invoiceTable(filters, "invoices", "Счетов пока нет.");
      listSlot.replaceChildren(table.element);
      return table.next();
    };
    // A completed run has new invoices: the list below shows them too.
    if (role === "operator") main.append(invoiceRunPanel(load));
    main.append(section("Список счетов", h("p", { class: "muted" }, intro), form, listSlot));
    return load();
  }

  function invoiceRunPanel(onCompleted) {
    const report = h("div", { id: "invoice-run" });
    const invoicesSlot = h("div", { id: "invoice-run-invoices" });
    const msg = slot();
    const month = h("input", {
      name: "month",
      type: "month",
      required: true,
      value: isoToday().slice(0, 7),
    });
    const kind = select(
      "kind",
      [
        ["advance", "Аванс"],
        ["final", "Итоговые"],
      ],
      "advance",
    );
    const start = h("button", { type: "submit" }, "Сформировать счета");
    const show = h("button", { type: "button", class: "secondary" }, "Показать итоги");
    const form = h(
      "form",
      { id: "invoice-run-form", class: "form grid" },
      field("Месяц", month, "Аванс — за начавшийся месяц; итоговые — после завершённого списания месяца."),
      field("Вид счетов", kind),
      h("div", { class: "actions" }, start, show),
    );
    const view = state.view;
    const runPath = (m, k) => `/invoice-runs/${encodeURIComponent(m)}/${encodeURIComponent(k)}`;
    let listed = null; // the run whose invoices are listed
    const render = (run) => {
      if (!current(view)) return;
      report.replaceChildren(invoiceRunReport(run));
      if (run.status === "running") {
        invoicesSlot.replaceChildren();
        listed = null;
        later(POLL_MS, () =>
          api("GET", runPath(run.month, run.kind))
            .then(render)
            .catch((error) => current(view) && showError(msg, error)),
        );
        return;
      }
      const key = `${run.month}/${run.kind}/${run.started_at}`;
      if (listed === key) return;
      listed = key;
      const table = invoiceTable(
        { month: run.month, kind: run.kind },
        "run-invoices",
        "Счетов за этот месяц нет.",
      );
      invoicesSlot.replaceChildren(
        h("h3", {}, `Счета за ${formatMonth(run.month)} (${INVOICE_KIND[run.kind] || run.kind})`),
        table.element,
      );
      table.next();
      onCompleted();
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      msg.replaceChildren();
      busy(start, async () => {
        try {
          render(await api("POST", "/invoice-runs", { body: { month: month.value, kind: kind.value } }));
        } catch (error) {
          markInvalid(form, error);
          showError(msg, error);
        }
      });
    });
    show.addEventListener("click", () => {
      msg.replaceChildren();
      busy(show, async () => {
        try {
          render(await api("GET", runPath(month.value, kind.value)));
        } catch (error) {
          if (error.code === "not_found") {
            report.replaceChildren();
            invoicesSlot.replaceChildren();
            listed = null;
            showInfo(msg, `За ${formatMonth(month.value)} такие счета ещё не формировались.`);
          } else showError(msg, error);
        }
      });
    });
    return section("Формирование счетов", form, msg, report, invoicesSlot);
  }

  function invoiceRunReport(run) {
    return h(
      "div",
      { class: "card report", "data-status": run.status, "data-month": run.month, "data-kind": run.kind },
      h("h3", {}, `${run.kind === "final" ? "Итоговые счета" : "Авансы"} за ${formatMonth(run.month)}`),
      h(
        "div",
        { class: "badges" },
        badge(RUN_STATUS[run.status] || run.status, run.status),
        run.status === "running" ? h("span", { class: "muted" }, "итоги обновляются…") : null,
      ),
      facts([
        ["Счетов", run.invoices_count, "invoices_count"],
        ["Строк", run.lines_count, "lines_count"],
        ["Сумма", formatKopecks(run.amount_kopecks), "amount_kopecks"],
        ["Начало", formatTimestamp(run.started_at)],
        ["Окончание", formatTimestamp(run.finished_at)],
      ]),
    );
  }

  async function renderInvoice(main, _params, invoiceId) {
    const head = h("div", { id: "invoice" });
    const msg = slot();
    const actions = h("div", { id: "invoice-actions" });
    const body = h("tbody", { id: "invoice-lines" });
    main.append(
      section(null, h("a", { href: "#/invoices", class: "back" }, "← Все счета"), head, msg, actions),
    );
    const view = state.view;
    const path = `/invoices/${encodeURIComponent(invoiceId)}`;
    const show = (invoice) => {
      if (!current(view)) return;
      head.replaceChildren(invoiceHead(invoice));
      actions.replaceChildren(...invoiceActions(invoice, path, show));
    };
    let invoice;
    try {
      invoice = await api("GET", path);
    } catch (error) {
      if (current(view)) showError(msg, error);
      return;
    }
    show(invoice);
    const { footer, next } = pager(
      body,
      (cursor) => api("GET", `${path}/lines`, { query: { limit: PAGE_SIZE, cursor } }),
      (() => {
        let number = 0;
        return (line) => {
          number += 1;
          return row({ "data-enrollment-id": line.enrollment_id, "data-month": line.month }, LINES_HEAD, [
            num(number),
            { value: line.certificate_number, className: "certificate" },
            { value: line.enrollment_id, className: "id" },
            { value: line.program_title, className: "title" },
            formatMonth(line.month),
            num(formatKopecks(line.certificate_kopecks)),
            num(line.completeness_percent === null ? "—" : `${line.completeness_percent}${NBSP}%`),
            { value: formatKopecks(line.amount_kopecks), className: "num amount" },
          ]);
        };
      })(),
      "В счёте нет строк.",
    );
    main.append(section("Строки счёта", tableWrap(LINES_HEAD, body), footer));
    await next();
  }

  function invoiceHead(invoice) {
    const final = invoice.kind === "final";
    return h(
      "div",
      { "data-invoice-id": invoice.invoice_id, "data-status": invoice.status, "data-kind": invoice.kind },
      h("h1", { id: "invoice-title" }, `Счёт №${NBSP}${invoice.number}`),
      h(
        "div",
        { class: "badges" },
        badge(INVOICE_KIND[invoice.kind] || invoice.kind),
        h(
          "span",
          { "data-field": "status" },
          badge(INVOICE_STATUS[invoice.status] || invoice.status, invoice.status),
        ),
      ),
      facts([
        ["Вид", INVOICE_KIND[invoice.kind] || invoice.kind, "kind"],
        ["Месяц", formatMonth(invoice.month), "month"],
        ["Плательщик", invoice.payer_name, "payer_name"],
        ["Организация", invoice.provider_name, "provider_name"],
        ["ИНН организации", invoice.provider_inn || "—", "provider_inn"],
        ["Строк", invoice.lines_count, "lines_count"],
        final ? ["Списано за месяц", formatKopecks(invoice.charged_total_kopecks), "charged_total_kopecks"] : null,
        final ? ["Аванс за месяц", formatKopecks(invoice.advance_kopecks), "advance_kopecks"] : null,
        [
          final && invoice.amount_kopecks < 0 ? "К возврату организацией" : "К оплате",
          formatKopecks(invoice.amount_kopecks),
          "amount_kopecks",
        ],
        ["Сформирован", formatTimestamp(invoice.formed_at), "formed_at"],
        ["Принят", formatTimestamp(invoice.accepted_at), "accepted_at"],
        ["Дата оплаты", formatDate(invoice.paid_on), "paid_on"],
        ["Платёжное поручение", invoice.payment_order || "—", "payment_order"],
      ]),
    );
  }

  /** The register's downloads for everyone; accepting and paying for a payer or an operator. */
  function invoiceActions(invoice, path, show) {
    const msg = slot();
    const register = (format) => {
      const button = h(
        "button",
        { type: "button", class: "secondary register", "data-format": format },
        `Реестр ${format.toUpperCase()}`,
      );
      button.addEventListener("click", () =>
        busy(button, async () => {
          msg.replaceChildren();
          try {
            const name = await download(`${path}/register`, { query: { format } }, `register.${format}`);
            showOk(msg, `Реестр сохранён: ${name}.`);
          } catch (error) {
            showError(msg, error);
          }
        }),
      );
      return button;
    };
    const parts = [h("div", { class: "actions downloads" }, register("csv"), register("xlsx"))];
    const role = state.session && state.session.role;
    if (role !== "payer" && role !== "operator") return [...parts, msg];
    // A repeated step answers the same invoice: a double click or a retry changes nothing.
    const step = (button, run, note) =>
      busy(button, async () => {
        msg.replaceChildren();
        try {
          const updated = await run();
          show(updated);
          const fresh = document.querySelector("#invoice-actions .msg");
          if (fresh) showOk(fresh, note(updated));
        } catch (error) {
          showError(msg, error);
        }
      });
    if (invoice.status === "formed") {
      const accept = h("button", { type: "button", id: "accept-invoice" }, "Принять счёт");
      accept.addEventListener("click", () =>
        step(
          accept,
          () => api("POST", `${path}/accept`),
          () => "Счёт принят. Теперь можно отметить оплату.",
        ),
      );
      parts.push(
        h("p", { class: "muted" }, "Проверьте строки счёта и примите его: после этого счёт можно оплатить."),
        h("div", { class: "actions" }, accept),
      );
    } else if (invoice.status === "accepted") {
      const submit = h("button", { type: "submit" }, "Отметить оплату");
      const form = h(
        "form",
        { id: "pay-form", class: "form grid" },
        field("Дата оплаты", h("input", { name: "paid_on", type: "date", required: true, value: isoToday() })),
        field(
          "Платёжное поручение",
          h("input", {
            name: "payment_order",
            required: true,
            maxlength: 50,
            autocomplete: "off",
            placeholder: "№ 1234",
          }),
        ),
        h("div", { class: "actions" }, submit),
      );
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const body = {
          paid_on: String(data.get("paid_on") || ""),
          payment_order: String(data.get("payment_order") || "").trim(),
        };
        step(
          submit,
          async () => {
            try {
              const paid = await api("POST", `${path}/pay`, { body });
              markInvalid(form, null);
              return paid;
            } catch (error) {
              markInvalid(form, error);
              throw error;
            }
          },
          (paid) => `Оплата отмечена: ${formatDate(paid.paid_on)}, платёжное поручение ${paid.payment_order}.`,
        );
      });
      parts.push(h("h3", {}, invoice.amount_kopecks < 0 ? "Возврат от организации" : "Оплата"), form);
    }
    return [...parts, msg];
  }

  // --- Router --------------------------------------------------------------------------------

  const ROUTES = [
    [/^catalog$/, renderCatalog, null],
    [/^children$/, renderChildren, "parent"],
    [/^enrollments$/, renderEnrollments, "parent"],
    [/^certificates$/, renderCertificates, "parent"],
    [/^certificates\/([^/]+)$/, renderCertificate, "parent"],
    [/^provider$/, renderProvider, "provider"],
    [/^provider\/programs\/([^/]+)$/, renderRoster, "provider"],
    [/^operator$/, renderOperator, "operator"],
    [/^operator\/payers$/, renderPayers, "operator"],
    [/^payer$/, renderPayer, "payer"],
    [/^invoices$/, renderInvoices, INVOICE_ROLES],
    [/^invoices\/([^/]+)$/, renderInvoice, INVOICE_ROLES],
  ];

  function route() {
    state.view += 1;
    for (const timer of state.timers) clearTimeout(timer);
    state.timers.clear();
    const dialog = document.getElementById("dialog");
    if (dialog.open) dialog.close();
    dialog.replaceChildren();
    const raw = location.hash.replace(/^#\/?/, "");
    const [pathPart, queryPart] = raw.split("?");
    const path = pathPart || "catalog";
    renderChrome(path);
    const main = document.getElementById("view");
    main.replaceChildren();
    const found = ROUTES.find(([pattern]) => pattern.test(path));
    if (!found) {
      main.append(
        section(null, h("h1", {}, "Страница не найдена"), h("a", { href: "#/catalog" }, "В каталог")),
      );
      return;
    }
    const [pattern, render, role] = found;
    const roles = role ? [].concat(role) : [];
    if (roles.length && (!state.session || !roles.includes(state.session.role))) {
      const names = roles.map((r) => `«${ROLE_NAMES[r]}»`).join(" или ");
      main.append(
        section(
          null,
          h("h1", {}, "Нужен вход"),
          h("p", {}, `Раздел доступен после входа как ${names}.`),
          h("div", { class: "actions" }, roles.map((r) => signInButton(r))),
        ),
      );
      return;
    }
    let args;
    try {
      args = pattern.exec(path).slice(1).map(decodeURIComponent);
    } catch {
      args = null; // a malformed %-escape in the address bar
    }
    if (args === null) {
      const msg = slot();
      main.append(msg);
      showError(msg, "Неверный адрес страницы.");
      return;
    }
    Promise.resolve()
      .then(() => render(main, new URLSearchParams(queryPart || ""), ...args))
      .catch((error) => {
        const msg = slot();
        main.append(msg);
        showError(msg, error);
      });
    window.scrollTo(0, 0);
  }

  // Exposed for the browser console and tests; the page itself never needs it.
  window.navigatorPortal = { formatKopecks, parseRoubles, normalizeSnils };

  window.addEventListener("hashchange", route);
  route();
})();
