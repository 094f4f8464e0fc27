package policy

import (
	"maps"
	"slices"
	"strconv"
)

// Stricter reports whether policy b is at least as strict as policy a in
// every field, so that a 13–15-year-old's change can apply at once when it
// only tightens and go to a guardian as a request when it loosens anything.
// It is exactly "Loosenings(a, b) is empty". A nil policy counts as the
// empty Policy: audience everyone and nothing else, the loosest there is.
//
// Field by field, b is at least as strict as a when:
//
//   - Audience: b's is the same or later in everyone < friends < approved <
//     nobody.
//   - BlockAdultStrangers, MediaFriendsOnly: on in b wherever on in a.
//   - MinSenderAccountAgeDays: b's is the same or higher (negative reads as 0,
//     no minimum, as in Decide).
//   - Quiet hours: when a's are on, b's are on too and b's window contains
//     a's (turning them on or widening the window tightens; moving it off a's
//     minutes loosens). When a's are on and hold approved contacts, b's must
//     hold them too: turning the exemption off tightens, on loosens. With a's
//     quiet hours off, their window and exemption hold nobody and do not
//     count.
//   - Approved contacts: b's are a subset of a's (removing one tightens).
//   - Blocked contacts: b's are a superset of a's (adding one tightens).
//
// Version and Location are not compared: the version is bookkeeping and the
// zone belongs to the teen, not to the rules. Under this definition, and for
// the same Location, Decide never gives b a looser outcome than a for any
// contact, facts and time, nor releases a message held under both policies
// earlier under b; the fuzz tests hold it to that.
func Stricter(a, b *Policy) bool {
	return len(Loosenings(a, b)) == 0
}

// Loosenings names, in words for the approval request a guardian sees, each
// way in which policy b is looser than policy a, in field order: for example
// "audience from friends to everyone", "quiet hours from 22:00–07:00 to off"
// or "approved contact u_9 added". It returns nil when b is at least as
// strict as a everywhere (see Stricter for what each field's order is).
func Loosenings(a, b *Policy) []string {
	var none Policy
	if a == nil {
		a = &none
	}
	if b == nil {
		b = &none
	}
	var out []string
	if ar, br := a.Audience.rank(), b.Audience.rank(); br < ar {
		out = append(out, "audience from "+ar.String()+" to "+br.String())
	}
	if a.BlockAdultStrangers && !b.BlockAdultStrangers {
		out = append(out, "blocking adult strangers from on to off")
	}
	if a.MediaFriendsOnly && !b.MediaFriendsOnly {
		out = append(out, "media and links from friends only from on to off")
	}
	if am, bm := max(a.MinSenderAccountAgeDays, 0), max(b.MinSenderAccountAgeDays, 0); bm < am {
		out = append(out, "minimum account age of strangers from "+days(am)+" to "+days(bm))
	}
	out = appendQuietLoosenings(out, a.Quiet, b.Quiet)
	for _, id := range slices.Sorted(maps.Keys(b.Approved)) {
		if _, ok := a.Approved[id]; !ok {
			out = append(out, "approved contact "+id+" added")
		}
	}
	for _, id := range slices.Sorted(maps.Keys(a.Blocked)) {
		if _, ok := b.Blocked[id]; !ok {
			out = append(out, "blocked contact "+id+" removed")
		}
	}
	return out
}

// appendQuietLoosenings adds the ways in which quiet hours b hold fewer
// messages than quiet hours a.
func appendQuietLoosenings(out []string, a, b QuietHours) []string {
	as, ae, aOn := a.window()
	bs, be, bOn := b.window()
	switch {
	case !aOn:
		return out
	case !bOn:
		return append(out, "quiet hours from "+a.String()+" to off")
	case !windowContains(bs, be, as, ae):
		out = append(out, "quiet hours from "+a.String()+" to "+b.String())
	}
	if !a.ApprovedExempt && b.ApprovedExempt {
		out = append(out, "approved contacts exempt from quiet hours from off to on")
	}
	return out
}

// windowContains reports whether the window [outerStart, outerEnd) contains
// [innerStart, innerEnd), both non-empty arcs of the day that may wrap
// midnight: the inner arc must begin inside the outer one and end no later.
func windowContains(outerStart, outerEnd, innerStart, innerEnd int) bool {
	outerLen := (outerEnd - outerStart + minutesPerDay) % minutesPerDay
	innerLen := (innerEnd - innerStart + minutesPerDay) % minutesPerDay
	offset := (innerStart - outerStart + minutesPerDay) % minutesPerDay
	return offset+innerLen <= outerLen
}

func days(n int) string {
	if n == 0 {
		return "none"
	}
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}
