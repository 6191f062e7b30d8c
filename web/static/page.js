// @ts-check
/**
 * What the modules of the join page share: the page state, the signaling
 * client, the switch between views, and the texts of roles and errors.
 *
 * @module page
 */

import { Client } from './protocol.js';
import { has, t } from './i18n.js';

/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./protocol.js').JoinInfo} JoinInfo */

/** Plain, inspectable page state. */
export const state = {
  /** @type {'loading' | 'error' | 'prejoin' | 'call' | 'left'} */
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
