// Package models holds Hearth's domain types, the rules that validate them and
// the sentinel errors every layer agrees on. It knows nothing of HTTP, HTML or
// SQL: handlers translate requests into these types and the store persists them.
//
// Nothing here has a field for message text. Hearth is content-blind by
// construction: it sees who talked to whom and what the platform did, never
// what was said.
package models
