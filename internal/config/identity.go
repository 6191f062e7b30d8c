package config

import (
	"encoding/hex"
	"errors"
	"net/url"
)

// validateIdentity checks the identity key and the face-verification
// service settings.
func (c *Config) validateIdentity() []error {
	var errs []error
	if c.IdentityKey != "" {
		if b, err := hex.DecodeString(c.IdentityKey); err != nil || len(b) != 32 {
			errs = append(errs, errors.New("identity-key must be 64 hexadecimal digits (32 bytes)"))
		}
	}
	if c.FaceVerifyURL != "" {
		u, err := url.Parse(c.FaceVerifyURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, errors.New("face-verify-url must be an http(s) URL"))
		}
		if len(c.FaceVerifySecret) < 16 {
			errs = append(errs, errors.New("face-verify-url needs face-verify-secret of at least 16 characters"))
		}
		if c.FaceVerifyTimeout <= 0 {
			errs = append(errs, errors.New("face-verify-timeout must be positive"))
		}
	}
	return errs
}
