// @ts-check
/**
 * What the modules of the staff pages share: the API client, the page
 * state, labels and times in the page's language, error handling, and
 * navigation. staff.js registers the function that draws the page of the
 * current URL (setRenderer); the others call render() and navigate().
 *
 * @module staff-common
 */

import { Api, ApiError } from './api.js';
import { getLanguage, has, t } from './i18n.js';
import { h, setMain, showError } from './staff-dom.js';

/** @typedef {import('./api.js').Case} Case */
/** @typedef {import('./api.js').Session} Session */
/** @typedef {import('./api.js').AuditEntry} AuditEntry */
/** @typedef {import('./api.js').Account} Account */

export const KINDS = ['mediation', 'notarization', 'hearing', 'evidence_collection'];

export const INVITE_ROLES = ['party', 'interpreter', 'observer', 'mediator', 'notary', 'judge'];

/** Participant languages, named in themselves. */
export const PARTICIPANT_LANGUAGES = [
  { code: 'zh-CN', name: '中文' },
  { code: 'it', name: 'Italiano' },
  { code: 'en', name: 'English' },
  { code: 'es', name: 'Español' },
  { code: 'fr', name: 'Français' },
];

export const DEFAULT_ZONE = 'Asia/Shanghai';

export const api = new Api();

/** Plain, inspectable page state. */
export const state = {
  /** @type {Account | null} */
  account: null,
  /** i18n key of a note on the login page (e.g. the login expired), or '' */
  loginNote: '',
  /** counts renders; an answer for an older render is dropped */
  seq: 0,
  /** @type {{case: Case, sessions: Session[], parties?: import('./api.js').Party[]} | null} the case page's data */
  caseData: null,
  /** @type {Map<string, {name: string, url: string, expires_at: string, invitation?: import('./api.js').Invitation}[]>} links created on this visit of the case page, by session */
  newInvites: new Map(),
  /** @type {Map<string, HTMLFormElement>} invite forms, kept across redraws of their session */
  inviteForms: new Map(),
  /** @type {AuditEntry[]} */
  audit: [],
  auditMore: false,
  /** @type {() => void} redraws the current page from state, after a language change */
  redraw: () => {},
  /** @type {() => void} stops what the current page runs (a player), before another is drawn */
  cleanup: () => {},
};

// ---- Rendering and navigation -----------------------------------------------

/** @type {() => void} */
let renderer = () => {};

/**
 * Sets the function that draws the page of the current URL.
 * @param {() => void} fn
 */
export function setRenderer(fn) {
  renderer = fn;
}

/** Draws the page of the current URL. */
export function render() {
  renderer();
}

/**
 * Goes to url within the staff pages.
 * @param {string} url
 * @param {{replace?: boolean}} [options]
 */
export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render();
  window.scrollTo(0, 0);
}

// ---- Roles ---------------------------------------------------------------------

/** Whether the viewer may read the audit log (admins and clerks). */
export function canAudit() {
  return state.account?.role === 'admin' || state.account?.role === 'clerk';
}

/** Whether the viewer may export recordings and put them on legal hold (admins and clerks). */
export function canExport() {
  return canAudit();
}

// ---- Text ---------------------------------------------------------------------

/** @param {string} role */
export function roleLabel(role) {
  return has(`role.${role}`) ? t(`role.${role}`) : role;
}

/** @param {string} kind */
export function kindLabel(kind) {
  return has(`kind.${kind}`) ? t(`kind.${kind}`) : kind;
}

/** @param {string} code */
export function languageLabel(code) {
  return PARTICIPANT_LANGUAGES.find((l) => l.code === code)?.name ?? code;
}

/** @param {string} s */
export function stateLabel(s) {
  return has(`staff.state.${s}`) ? t(`staff.state.${s}`) : s;
}

/**
 * The text of an error for a person, in the page's language.
 * @param {unknown} err
 */
export function errorText(err) {
  if (err instanceof ApiError) {
    const seconds = err.retryAfter || Number(/(\d+) second/.exec(err.message)?.[1] ?? 0) || 60;
    if (has(`staff.error.${err.code}`)) return t(`staff.error.${err.code}`, { seconds, detail: err.message });
    if (has(`error.${err.code}`)) return t(`error.${err.code}`);
    return err.message || t('error.unknown');
  }
  return t('error.unknown');
}

/**
 * Shows err in box, or goes to the login page when the login is over.
 * @param {unknown} err
 * @param {HTMLElement} [box] where to show it; the whole page when missing
 */
export function handleError(err, box) {
  if (err instanceof ApiError && err.unauthenticated) {
    state.account = null;
    state.loginNote = err.code === 'login_expired' ? 'staff.error.login_expired' : 'staff.login.again';
    api.csrf = '';
    render();
    return;
  }
  if (!(err instanceof ApiError)) console.error(err);
  if (box) {
    showError(box, errorText(err));
  } else {
    setMain(h('section', { class: 'panel narrow' },
      h('h1', { text: t('error.title') }),
      h('p', { class: 'error-text', role: 'alert', 'data-testid': 'page-error', text: errorText(err) }),
      err instanceof ApiError ? h('p', { class: 'muted' }, `${t('error.code')}: `, h('code', { text: err.code })) : null,
      h('p', {}, h('a', { href: '/staff/', 'data-link': '', text: t('staff.back') }))));
  }
}

/**
 * @param {string | undefined} iso
 * @param {Intl.DateTimeFormatOptions} [options]
 * @returns {string} '' for a missing or bad time
 */
export function formatTime(iso, options = {}) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  try {
    return new Intl.DateTimeFormat(getLanguage(), {
      year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', ...options,
    }).format(date);
  } catch {
    return date.toISOString();
  }
}

/**
 * A start time with weekday and zone name, in zone (the viewer's when
 * missing).
 * @param {string} iso
 * @param {string} [zone]
 */
export function formatSchedule(iso, zone) {
  return formatTime(iso, { weekday: 'short', timeZoneName: 'short', timeZone: zone });
}

/**
 * An instant in the viewer's zone and, when it differs, in zone (the
 * organizer's): two lines.
 * @param {string} iso
 * @param {string} zone
 */
export function timeLines(iso, zone) {
  const organizer = formatSchedule(iso, zone);
  return [
    h('span', { class: 'time-line', 'data-testid': 'time-local', text: t('time.local', { time: formatSchedule(iso) }) }),
    organizer ? h('span', { class: 'time-line muted', 'data-testid': 'time-organizer', text: t('time.organizer', { time: organizer, zone }) }) : null,
  ];
}

/**
 * A number of bytes for a person: '812 KB', '12.3 MB', '1.02 GB'.
 * @param {number} n
 */
export function formatBytes(n) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = Math.max(0, Number(n) || 0);
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  try {
    return `${new Intl.NumberFormat(getLanguage(), { maximumFractionDigits: digits }).format(v)} ${units[i]}`;
  } catch {
    return `${v.toFixed(digits)} ${units[i]}`;
  }
}

/**
 * The detail of an audit entry as "key: value" pairs.
 * @param {string | undefined} detail
 */
export function detailText(detail) {
  if (!detail) return '';
  try {
    const obj = JSON.parse(detail);
    if (!obj || typeof obj !== 'object') return String(obj);
    return Object.entries(obj)
      .filter(([k]) => !k.endsWith('_id'))
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' · ');
  } catch {
    return detail;
  }
}
