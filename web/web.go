// Package web holds the operator console's templates and stylesheet,
// embedded in the binary.
package web

import "embed"

// Console is the console's templates (console/*.html) and console.css.
//
//go:embed console/*.html console/console.css
var Console embed.FS
