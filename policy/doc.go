// Package policy decides whether a direct message that involves a supervised
// teen may go through, and says why.
//
// The engine is pure. [Decide] and [DecideDM] take a teen's [Policy], facts
// about the other party and the message, and the moment the message was sent,
// and return a decision with its reason. They read no database, no clock, no
// file and no network, keep no state and allocate nothing, so every node of a
// cluster gives the same answer to the same question, tests need no fakes, and
// the messaging service's hot path pays well under a microsecond per check.
// Whoever calls them owns the policy copy, the clock and the counters.
//
// The engine is content-blind by construction. All it knows about a message
// is what the messaging service already knows without reading it: whether it
// carries media or a link, whether the two accounts follow each other,
// whether the other party is an adult and how old their account is. No
// parameter, field or type here can carry message text, and none may ever be
// added: Hearth never sees what teens write, and this package is where that
// promise would break first.
//
// # Rules
//
// One teen's policy is evaluated against the other party of the DM, in this
// order (the table of DESIGN.md, "DM policy and decision"):
//
//	#  when                                                        outcome  reason
//	1  other party is a blocked contact                            deny     blocked_contact
//	2  other party is an approved contact                          allow    approved_contact
//	   (skips 3–8; 9 applies only if approved contacts are not exempt)
//	3  audience nobody                                             deny     dms_off
//	4  audience approved                                           deny     approved_only
//	5  adult strangers blocked, other party adult, not mutual      deny     adult_stranger
//	6  media from friends only, media or a link, not mutual        deny     media_restricted
//	7  audience friends, not mutual                                request  not_friends
//	8  other party's account younger than the minimum, not mutual  request  new_account
//	9  inside quiet hours                                          hold     quiet_hours
//	–  otherwise                                                   allow    allowed
//
// Outcomes are ordered by strictness, deny > request > hold > allow. The
// strictest outcome any rule gives wins, and its reason is that of the first
// rule giving it. When both parties are supervised teens, both policies are
// evaluated and the strictest result wins; on a tie the recipient's policy
// decides (see [DecideDM] for two holds).
//
// # Unknown facts
//
// A fact the messaging service did not send counts on the safe side: the two
// accounts are not mutual followers, the other party is an adult, their
// account is 0 days old, and the message may carry media and a link. A missing
// fact can therefore only make a decision stricter, never looser.
//
// # Time
//
// Quiet hours are wall-clock minutes in the teen's own time zone, and a held
// message waits until the first moment that zone's clock is outside the
// window, which handles daylight-saving changes (see [QuietHours]).
package policy
