package auth

import "errors"

// Errors of join and invite tokens.
var (
	ErrTokenInvalid = errors.New("auth: token invalid")
	ErrTokenExpired = errors.New("auth: token expired")
	ErrTokenUsed    = errors.New("auth: token already used")
)
