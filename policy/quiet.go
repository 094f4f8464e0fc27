package policy

import (
	"fmt"
	"time"
)

// minutesPerDay bounds QuietHours.Start and End.
const minutesPerDay = 24 * 60

// QuietHours is a daily window, in the teen's local wall-clock time, during
// which DMs are held rather than delivered, so that a phone stays quiet at
// night whatever zone the sender is in.
//
// The window is [Start, End) in minutes since local midnight (0..1439): a
// message sent at Start is held, one sent at End is not. Start > End wraps
// midnight (22:00–07:00). Start == End is an empty window; Validate rejects it
// when Enabled, because nobody means that.
//
// A held message waits until the first moment after it was sent at which the
// teen's clock is outside the window. Normally that is the next time the
// clock reads End, today or tomorrow, found with time.Date in the teen's
// Location, so a window around a daylight-saving change keeps its wall-clock
// meaning (22:00–07:00 is 8 hours on the spring-forward night, 10 on the
// fall-back night). Two details at the changes:
//
//   - End inside a spring-forward gap (02:30 on 2026-03-08 in America/New_York,
//     01:30 on 2026-03-29 in Europe/London): that wall time never happens.
//     time.Date normalizes it, but not helpfully: depending on the zone's
//     offset it returns the hour before the gap (New York: 01:30 EST, still
//     inside the window, so the message would wait a whole extra day) or the
//     hour after it (London: 02:30 BST). Neither is used. The hold ends at the
//     change itself (03:00 EDT, 02:00 BST), the first moment the clock reads
//     End or later, which is also when new messages stop being held.
//   - End inside a fall-back hour (01:30 on 2026-11-01 in America/New_York,
//     on 2026-10-25 in Europe/London): that wall time happens twice, and
//     time.Date picks one or the other depending on the zone. The hold ends at
//     the first occurrence after the message was sent. Likewise, if falling
//     back moves the clock to before Start, the hold ends at the change.
type QuietHours struct {
	Enabled bool
	// Start and End are minutes since local midnight, 0..1439.
	Start, End uint16
	// ApprovedExempt lets approved contacts through during quiet hours (on in
	// the defaults, so that a grandparent's message is never held). Off holds
	// them like everyone else.
	ApprovedExempt bool
}

// String returns the window as "22:00–07:00", or "off", for messages and
// logs.
func (q QuietHours) String() string {
	if !q.Enabled {
		return "off"
	}
	return clock(q.Start) + "–" + clock(q.End)
}

// clock formats minutes since midnight as "hh:mm".
func clock(m uint16) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// window returns the quiet window in minutes since midnight, and false when
// quiet hours are off or the window is empty. Out-of-range values wrap
// around the day rather than panic; Validate refuses them.
func (q QuietHours) window() (start, end int, ok bool) {
	if !q.Enabled {
		return 0, 0, false
	}
	start, end = int(q.Start)%minutesPerDay, int(q.End)%minutesPerDay
	return start, end, start != end
}

// inWindow reports whether minute m of the day falls in [start, end),
// wrapping midnight when start > end.
func inWindow(m, start, end int) bool {
	if start < end {
		return start <= m && m < end
	}
	return m >= start || m < end
}

// minuteOfDay returns t's wall-clock minute of the day in loc.
func minuteOfDay(t time.Time, loc *time.Location) int {
	h, m, _ := t.In(loc).Clock()
	return h*60 + m
}

// holdUntil reports whether at falls inside the quiet hours in loc (nil means
// UTC) and, if so, when they end for a message sent then.
func (q QuietHours) holdUntil(at time.Time, loc *time.Location) (time.Time, bool) {
	start, end, ok := q.window()
	if !ok {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.UTC
	}
	if !inWindow(minuteOfDay(at, loc), start, end) {
		return time.Time{}, false
	}
	return quietEnd(at, loc, start, end), true
}

// quietEnd returns the first instant after at, which is inside the window,
// at which loc's wall clock is outside [start, end).
func quietEnd(at time.Time, loc *time.Location, start, end int) time.Time {
	until := nextWallClock(at, loc, end/60, end%60)
	// The clock can also leave the window by jumping at a zone change: over
	// End when it springs forward, or back before Start when it falls back.
	// A day holds at most a couple of changes; the bound is only a guard.
	t := at
	for range 4 {
		_, change := t.In(loc).ZoneBounds()
		if change.IsZero() || !change.Before(until) {
			break
		}
		if !inWindow(minuteOfDay(change, loc), start, end) {
			return change
		}
		t = change
	}
	return until
}

// nextWallClock returns the first instant after `after` at which loc's wall
// clock reads exactly h:m, skipping days on which h:m falls in a gap.
func nextWallClock(after time.Time, loc *time.Location, h, m int) time.Time {
	y, mo, d := after.In(loc).Date()
	// Today or tomorrow, or the day after when tomorrow's h:m is skipped.
	for i := range 3 {
		t := time.Date(y, mo, d+i, h, m, 0, 0, loc)
		if th, tm, _ := t.Clock(); th != h || tm != m {
			continue // h:m does not exist that day; time.Date moved it.
		}
		// When h:m happens twice that day, time.Date may return either one;
		// try the earlier occurrence, this one, and the later occurrence.
		zoneStart, zoneEnd := t.ZoneBounds()
		_, offset := t.Zone()
		if !zoneStart.IsZero() {
			_, before := zoneStart.Add(-time.Nanosecond).Zone()
			if earlier := t.Add(time.Duration(offset-before) * time.Second); before > offset &&
				earlier.Before(zoneStart) && earlier.After(after) {
				return earlier
			}
		}
		if t.After(after) {
			return t
		}
		if !zoneEnd.IsZero() {
			_, next := zoneEnd.Zone()
			if later := t.Add(time.Duration(offset-next) * time.Second); next < offset &&
				!later.Before(zoneEnd) && later.After(after) {
				return later
			}
		}
	}
	// Unreachable with real zones: some day in three has h:m after `after`.
	// Keep the hold bounded rather than return a time in the past.
	return after.Add(24 * time.Hour)
}
