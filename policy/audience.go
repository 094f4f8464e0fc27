package policy

import (
	"fmt"
	"slices"
	"strconv"
)

// Audience says who may start a DM with the teen. Its values are ordered from
// open to closed (everyone < friends < approved < nobody), which is the order
// Stricter compares them in. Decide treats any value above AudienceNobody as
// AudienceNobody, so a corrupt value fails closed.
type Audience uint8

// The audiences a guardian can choose. The numbers are stable; persist and
// transmit the String form all the same.
const (
	// AudienceEveryone lets anyone DM the teen (other rules still apply).
	AudienceEveryone Audience = iota
	// AudienceFriends sends DMs from accounts that are not mutual followers to
	// the teen's message requests.
	AudienceFriends
	// AudienceApproved refuses DMs from anyone but approved contacts.
	AudienceApproved
	// AudienceNobody turns DMs off; only approved contacts get through.
	AudienceNobody
)

var audienceNames = [...]string{
	AudienceEveryone: "everyone",
	AudienceFriends:  "friends",
	AudienceApproved: "approved",
	AudienceNobody:   "nobody",
}

// String returns the API name ("everyone", "friends", "approved", "nobody"),
// which is also what gets stored and shown.
func (a Audience) String() string {
	if int(a) < len(audienceNames) {
		return audienceNames[a]
	}
	return "Audience(" + strconv.Itoa(int(a)) + ")"
}

// ParseAudience returns the Audience named s, exactly as String spells it, so
// that handlers can refuse anything else with a clear message.
func ParseAudience(s string) (Audience, error) {
	if i := slices.Index(audienceNames[:], s); i >= 0 {
		return Audience(i), nil
	}
	return 0, unknownName("audience", s, "everyone, friends, approved or nobody")
}

// MarshalText writes the API name, so encoding/json and templates show
// "friends", not 1. An out-of-range value is an error rather than a number
// nobody can read back.
func (a Audience) MarshalText() ([]byte, error) {
	if int(a) >= len(audienceNames) {
		return nil, fmt.Errorf("policy: audience %d out of range: %w", a, ErrInvalid)
	}
	return []byte(audienceNames[a]), nil
}

// UnmarshalText reads the API name, so that JSON bodies decode straight into
// an Audience and anything unknown is refused.
func (a *Audience) UnmarshalText(b []byte) error {
	v, err := ParseAudience(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// rank is the audience as Decide and Stricter see it: out-of-range values
// count as AudienceNobody.
func (a Audience) rank() Audience { return min(a, AudienceNobody) }
