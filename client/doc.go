// Package client is the Go SDK a messaging service uses to call Hearth: it
// provisions teens, hands out their sign-in links, asks "may this DM go
// through?" on every send, reports moderation events, and verifies the signed
// webhooks Hearth sends back. It speaks the hook API of DESIGN.md ("Hook
// API") and imports nothing but the standard library and Hearth's policy
// types.
//
// # Fail closed
//
// The DM check sits on the send path, so it has a short budget
// (Config.CheckTimeout, 150ms by default). When Hearth cannot answer within
// it — a timeout, a refused or reset connection, a 5xx or 429, an answer that
// is not a well-formed decision, a context already cancelled — [Client.CheckDM]
// does not guess. It returns the hold a stale Hearth node would give,
//
//	policy.Result{Decision: policy.Hold, Reason: policy.ReasonSupervisionUnavailable, DecidedBy: policy.DecidedByNone}
//
// together with an error that wraps [ErrUnavailable]. A caller that looks only
// at the Result therefore keeps the message instead of delivering it: no DM
// slips past a teen's rules because Hearth was slow or down. The same hold
// comes back, with an [*Error], when Hearth refuses the request itself (a bad
// key, an invalid ID): a message whose check was wrong must not go through
// either. Act on the Result, and log the error:
//
//	res, err := hc.CheckDM(ctx, client.CheckRequest{
//		SenderID:    "u_1",
//		RecipientID: "tk_maya",
//		Context:     policy.Context{MutualFollow: new(false), SenderIsAdult: new(true), HasMedia: new(false), HasLink: new(false)},
//	})
//	if err != nil {
//		log.Printf("hearth: %v", err) // res is already the fail-closed hold
//	}
//	switch res.Decision {
//	case policy.Allow:
//		deliver(msg)
//	case policy.Request:
//		deliverToRequests(msg) // the message-request folder, no notification
//	case policy.Hold:
//		if res.HoldUntil.IsZero() {
//			recheckLater(msg) // supervision_unavailable: ask Hearth again, never just deliver
//		} else {
//			deliverAt(msg, res.HoldUntil) // quiet hours
//		}
//	default: // policy.Deny
//		refuse(msg, res.Reason)
//	}
//
// A hold for supervision_unavailable has no HoldUntil: nobody knows when
// Hearth will be reachable again, and the message must be checked again then,
// not delivered at a time. Only a hold for quiet_hours carries one.
//
// # Content never leaves the platform
//
// Nothing here has a field for message text: a [CheckRequest] carries IDs and
// facts (mutual follow, adult, account age, media, link), an [Event] carries
// IDs and categories. Hearth refuses unknown fields with a 422, so even a
// hand-built request cannot smuggle content in. The SDK logs nothing.
//
// # Retries
//
// Every call is safe to repeat. Provisioning, sign-in links, policy reads,
// deletion and event reports are retried on connection errors, timeouts, 429
// and 5xx answers (Config.Retries times, with jittered exponential backoff
// that honours Retry-After), each attempt bounded by Config.Timeout; 4xx
// answers are the caller's to fix and come back at once as an [*Error]. A
// retried event report keeps its webhook-id, and Hearth also deduplicates by
// event ID. The DM check, which reads and never writes, is retried once on a
// connection error when its budget allows, and never past CheckTimeout.
//
// # Webhooks
//
// Event reports are signed as Standard Webhooks with the client's whsec_
// secret, and [VerifyWebhook] and [ParseWebhook] check Hearth's outbound
// webhooks (policy.updated, supervision.started, supervision.ended) with the
// same secret: HMAC-SHA256 over "id.timestamp.body", a timestamp within five
// minutes, any of several space-separated signatures (for secret rotation),
// compared in constant time.
package client
