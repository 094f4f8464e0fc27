package policy

// Fact is a yes/no fact that the messaging service may not know or may not
// have sent. A plain bool would turn "not sent" into false, which for
// "is the sender an adult" is the unsafe answer; the zero Fact is Unknown, and
// Decide reads Unknown on the safe side of each rule.
type Fact uint8

// The three states of a Fact.
const (
	// Unknown: not sent or not known. Decide reads it as "not mutual" for
	// Facts.Mutual and as "adult" for Facts.OtherIsAdult.
	Unknown Fact = iota
	// No: known to be false.
	No
	// Yes: known to be true.
	Yes
)

// String returns "unknown", "no" or "yes", for test names and logs.
func (f Fact) String() string {
	switch f {
	case No:
		return "no"
	case Yes:
		return "yes"
	}
	return "unknown"
}

// FactOf turns an optional JSON boolean (nil when the field was missing) into
// a Fact, so that a missing field stays Unknown instead of becoming false.
func FactOf(b *bool) Fact {
	switch {
	case b == nil:
		return Unknown
	case *b:
		return Yes
	}
	return No
}

// Facts describes the OTHER party of a DM, and the message, as the messaging
// service sees them, for evaluating one teen's policy. It holds facts, never
// content: there is deliberately no place for message text.
type Facts struct {
	// Mutual: the two accounts follow each other ("friends"). Unknown counts
	// as not mutual.
	Mutual Fact
	// OtherIsAdult: the other party is 18 or over. Unknown counts as adult.
	OtherIsAdult Fact
	// OtherAccountAgeDays is the age of the other party's account in days,
	// read only when OtherAccountAgeKnown. Unknown counts as 0 days, and so do
	// negative values.
	OtherAccountAgeDays  int
	OtherAccountAgeKnown bool
	// HasMedia and HasLink: the message carries an image, video, file or
	// other attachment, or a link. DecideDM sets them when the service did
	// not say, because "maybe" has to count as "yes".
	HasMedia, HasLink bool
}

// otherAccountAgeDays is the account age Decide uses: unknown or negative
// counts as 0, the youngest possible.
func (f *Facts) otherAccountAgeDays() int {
	if !f.OtherAccountAgeKnown {
		return 0
	}
	return max(f.OtherAccountAgeDays, 0)
}

// Context is the "context" object of POST /api/v1/dm/check: facts about both
// parties and the message, each a pointer because the messaging service may
// leave any of them out, and a missing fact must count on the safe side
// rather than read as false or 0. The JSON names are those of the hook API,
// so that the Go SDK can send a Context as it is.
type Context struct {
	MutualFollow            *bool `json:"mutual_follow,omitempty"`
	SenderIsAdult           *bool `json:"sender_is_adult,omitempty"`
	SenderAccountAgeDays    *int  `json:"sender_account_age_days,omitempty"`
	RecipientIsAdult        *bool `json:"recipient_is_adult,omitempty"`
	RecipientAccountAgeDays *int  `json:"recipient_account_age_days,omitempty"`
	HasMedia                *bool `json:"has_media,omitempty"`
	HasLink                 *bool `json:"has_link,omitempty"`
}

// aboutSender returns the facts the recipient's policy is evaluated against.
func (c *Context) aboutSender() Facts {
	return c.facts(c.SenderIsAdult, c.SenderAccountAgeDays)
}

// aboutRecipient returns the facts the sender's policy is evaluated against.
func (c *Context) aboutRecipient() Facts {
	return c.facts(c.RecipientIsAdult, c.RecipientAccountAgeDays)
}

func (c *Context) facts(adult *bool, ageDays *int) Facts {
	f := Facts{
		Mutual:       FactOf(c.MutualFollow),
		OtherIsAdult: FactOf(adult),
		// A message the service did not describe may carry media or a link.
		HasMedia: c.HasMedia == nil || *c.HasMedia,
		HasLink:  c.HasLink == nil || *c.HasLink,
	}
	if ageDays != nil {
		f.OtherAccountAgeDays, f.OtherAccountAgeKnown = *ageDays, true
	}
	return f
}
