// Package core is the gateway's service layer: it makes invitations, opens
// them for a channel, keeps progress and saves completed responses exactly
// once. Channels and the operator API call it; it calls survey and store.
package core

import (
	"errors"
	"fmt"
	"time"
)

// Code is an API error code (API.md).
type Code string

// Error codes with their HTTP status.
const (
	Invalid         Code = "invalid_argument"
	Unauthenticated Code = "unauthenticated"
	Denied          Code = "permission_denied"
	NotFound        Code = "not_found"
	Conflict        Code = "conflict"
	Gone            Code = "gone"
	TooLarge        Code = "payload_too_large"
	HeadersTooLarge Code = "headers_too_large"
	// UnsupportedEncoding refuses a compressed request body.
	UnsupportedEncoding Code = "unsupported_encoding"
	RateLimited         Code = "rate_limited"
	Unavailable         Code = "unavailable"
	Internal            Code = "internal"
)

// Status is the HTTP status of a code.
func (c Code) Status() int {
	switch c {
	case Invalid:
		return 400
	case Unauthenticated:
		return 401
	case Denied:
		return 403
	case NotFound:
		return 404
	case HeadersTooLarge:
		return 431
	case Conflict:
		return 409
	case Gone:
		return 410
	case TooLarge:
		return 413
	case UnsupportedEncoding:
		return 415
	case RateLimited:
		return 429
	case Unavailable:
		return 503
	}
	return 500
}

// Error is an error meant for the caller: a code, a message that says what
// to fix and, for bad input, the field.
type Error struct {
	Code    Code
	Field   string
	Message string
	// RetryAfter, for rate_limited and unavailable, says when to try again.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Errorf makes an *Error.
func Errorf(code Code, field, format string, a ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, a...)}
}

// CodeOf returns the code of err, or Internal.
func CodeOf(err error) Code {
	if err == nil {
		return Internal // as errors.As finds, without its target's allocation
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}
