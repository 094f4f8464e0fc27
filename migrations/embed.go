// Package migrations holds Hearth's versioned SQL schema, one folder per
// dialect, embedded in the binary and applied with goose at start and by
// `hearth migrate`. Shipped files are never edited: a change is a new file.
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
