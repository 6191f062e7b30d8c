// @ts-check
/**
 * What the modules of the join page share: the page state, the signaling
 * client, the switch between views, and the texts of roles and errors.
 *
 * @module page
 */

import { Client } from './protocol.js';
import { getLanguage, has, t } from './i18n.js';

/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./protocol.js').JoinInfo} JoinInfo */
/** @typedef {import('./protocol.js').ChatMessage} ChatMessage */

/** Plain, inspectable page state. */
export const state = {
  /** @type {'loading' | 'error' | 'prejoin' | 'waiting' | 'call' | 'left'} */
  view: 'loading',
  invite: '',
  /** @type {JoinInfo | null} */
  info: null,
  /** whether ?lang= chose the language (then the participant's does not) */
  langFromQuery: false,
  /** @type {MediaStream | null} local camera and microphone */
  stream: null,
  /** @type {string} i18n key of the note about missing devices, or '' */
  mediaNote: '',
  /** @type {{video: string, audio: string}} chosen device ids, 'none' for none, '' for default */
  devices: { video: '', audio: '' },
  audio: true,
  video: true,
  consent: false,
  /** whether the first attempt to open camera and microphone is over */
  mediaReady: false,
  /** @type {Participant | null} */
  self: null,
  /** @type {Map<string, Participant>} the others, by id */
  participants: new Map(),
  /** @type {Map<string, MediaStream>} one stream per remote participant */
  remoteStreams: new Map(),
  /** @type {{code: string, message: string} | null} */
  error: null,
  /** @type {string} why the call ended */
  closedReason: '',
  /** @type {string} the host's words when they turned this person away */
  closedMessage: '',
  /** @type {string} why this person waits (waiting room), '' in the call */
  waitingReason: '',
  /** @type {{from: string, text: string, at: Date}[]} the hosts' messages in the waiting room */
  notices: [],
  /** @type {'' | 'chat' | 'host'} the side panel shown in the call */
  panel: '',
  /** @type {Map<string, ChatMessage>} chat messages by id, in arrival order */
  chat: new Map(),
  /** chat messages from others not seen yet (the chat panel was closed) */
  unread: 0,
  /** @type {Participant[]} (hosts) who waits in the waiting room */
  lobby: [],
  /** @type {string[]} ids of raised hands, in the order they went up */
  hands: [],
  /** whether a host locked the room */
  roomLocked: false,
  /** whether the session is recorded */
  sessionRecord: false,
  /** @type {import('./protocol.js').PrivateRoom[]} the private rooms (caucuses) now */
  rooms: [],
  /** @type {{paused: boolean, reason: string}} whether a host paused the recording */
  recording: { paused: false, reason: '' },
};

export const client = new Client();

/** @param {typeof state.view} view */
export function showView(view) {
  state.view = view;
  for (const section of document.querySelectorAll('main > section[data-view]')) {
    /** @type {HTMLElement} */ (section).hidden = section.getAttribute('data-view') !== view;
  }
  document.body.dataset.screen = view; // for tests and styles
}

/**
 * Says text to screen readers (a polite live region), for news that
 * happens out of sight: a chat message while the chat is closed, someone
 * waiting to be let in.
 * @param {string} text
 */
export function announce(text) {
  const region = document.getElementById('announce');
  if (!region) return;
  region.textContent = '';
  // Set after a moment, so that the same words are said again.
  setTimeout(() => { region.textContent = text; }, 50);
}

/** Whether this person presides the call (host controls). */
export function isHost() {
  return Boolean(state.self?.host);
}

/**
 * A date in the viewer's language, e.g. for the scheduled start.
 * @param {Date} date
 * @param {string} [timeZone] the viewer's zone when missing
 * @returns {string} '' if timeZone is not a known zone
 */
export function formatTime(date, timeZone) {
  try {
    return new Intl.DateTimeFormat(getLanguage(), {
      weekday: 'short', year: 'numeric', month: 'long', day: 'numeric',
      hour: '2-digit', minute: '2-digit', timeZoneName: 'short', timeZone,
    }).format(date);
  } catch {
    return '';
  }
}

/** @param {string} role */
export function roleLabel(role) {
  return has(`role.${role}`) ? t(`role.${role}`) : role;
}

/**
 * The localized text of an error code, or the server's message.
 * @param {{code: string, message?: string}} err
 */
export function errorMessage(err) {
  if (has(`error.${err.code}`)) return t(`error.${err.code}`);
  return err.message || t('error.unknown');
}
