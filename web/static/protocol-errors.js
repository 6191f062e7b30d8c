// @ts-check
/**
 * The errors of the signaling client (protocol.js): error codes, their
 * classes, and {@link ProtocolError}. protocol.js re-exports the public
 * names.
 *
 * @module protocol-errors
 */

/** Error codes after which the server closes the connection. */
export const FATAL_CODES = new Set([
  'unsupported_version', 'token_invalid', 'token_expired', 'token_used',
  'session_ended', 'too_large', 'join_timeout',
]);

/** Codes after which trying again with the same invite cannot succeed. */
const PERMANENT_CODES = new Set([
  'invite_invalid', 'invite_expired', 'invite_revoked', 'bad_request',
  'session_ended', 'unsupported_version', 'consent_required',
]);

/** Codes of a failed join that a fresh join token may cure. */
export const FRESH_TOKEN_CODES = new Set(['token_expired', 'token_used']);

/** An error with a stable code, from the API, the server or the client. */
export class ProtocolError extends Error {
  /**
   * @param {string} code stable error code (docs/protocol.md, or `network`, `webrtc`, `aborted`)
   * @param {string} message human-readable detail, not localized
   * @param {{status?: number, ref?: string}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message || code);
    this.name = 'ProtocolError';
    this.code = code;
    this.status = extra.status;
    this.ref = extra.ref;
    this.fatal = FATAL_CODES.has(code);
  }
}

/**
 * Reports whether retrying with the same invite is pointless after err.
 * @param {unknown} err
 */
export function isPermanent(err) {
  return err instanceof ProtocolError && PERMANENT_CODES.has(err.code);
}

/**
 * The message of err, or err as a string.
 * @param {unknown} err
 */
export function errorText(err) {
  return err instanceof Error ? err.message : String(err);
}
