// Package api is the REST API under /api/v1: JSON in and out, errors as
// {"error": {"code", "message"}} with a stable code and the right status.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// Error is an API error: an HTTP status, a stable code and a message for a
// person.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func apiError(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// maxBody bounds request bodies.
const maxBody = 64 << 10

// decode reads a JSON body into v, refusing unknown fields, trailing data
// and bodies over maxBody.
func decode(w http.ResponseWriter, r *http.Request, v any) *Error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return apiError(http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return apiError(http.StatusRequestEntityTooLarge, "too_large", "the request body is larger than %d bytes", maxBody)
		case errors.As(err, &typeErr):
			return apiError(http.StatusBadRequest, "bad_request", "field %s must be %s", typeErr.Field, typeErr.Type)
		case errors.Is(err, io.EOF):
			return apiError(http.StatusBadRequest, "bad_request", "the request body is empty")
		default:
			return apiError(http.StatusBadRequest, "bad_request", "the request body is not valid JSON: %s", err)
		}
	}
	if dec.More() {
		return apiError(http.StatusBadRequest, "bad_request", "the request body has data after the JSON object")
	}
	return nil
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers an error; internal errors are logged once here and
// reach the client without detail.
func writeError(w http.ResponseWriter, log *slog.Logger, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = apiError(http.StatusInternalServerError, "internal", "internal error")
	} else if e.Status >= 500 {
		log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "code", e.Code, "err", e.Message)
	} else {
		log.Info("api request refused", "method", r.Method, "path", r.URL.Path, "code", e.Code, "remote", r.RemoteAddr)
	}
	writeJSON(w, e.Status, map[string]any{"error": map[string]string{"code": e.Code, "message": e.Message}})
}
