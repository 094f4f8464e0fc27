package store

// SetAlertBranching makes s read inboxes of more than teens teens with one
// scan, and the rest chunk teens per query, so tests reach every path of
// Alerts with a few teens.
func SetAlertBranching(s *Store, teens, chunk int) { s.alertBranching = [2]int{teens, chunk} }
