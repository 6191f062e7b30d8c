// Package auth handles staff credentials, login sessions, invite tokens and
// the short-lived join tokens the websocket accepts.
package auth
