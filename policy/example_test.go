package policy_test

import (
	"fmt"
	"time"

	"github.com/hearth-safety/hearth/policy"
)

// Maya (14, London) starts from the 13–15 defaults and her guardians
// approve her grandmother.
func ExampleDecide() {
	london, _ := time.LoadLocation("Europe/London")
	maya := policy.Defaults(14, london)
	maya.Approved["u_grandma"] = struct{}{}

	adultStranger := policy.Facts{Mutual: policy.No, OtherIsAdult: policy.Yes}
	friend := policy.Facts{Mutual: policy.Yes, OtherIsAdult: policy.No}
	evening := time.Date(2026, 11, 27, 21, 0, 0, 0, london)
	night := time.Date(2026, 11, 27, 23, 0, 0, 0, london)

	fmt.Println(policy.Decide(&maya, "u_9", adultStranger, evening))
	fmt.Println(policy.Decide(&maya, "u_grandma", adultStranger, night))
	fmt.Println(policy.Decide(&maya, "u_friend", friend, night))
	// Output:
	// deny adult_stranger
	// allow approved_contact
	// hold quiet_hours until 2026-11-28T07:00:00Z
}

// A DM between two supervised teens: each policy judges the other party and
// the stricter answer is the one the messaging service gets.
func ExampleDecideDM() {
	maya := policy.Defaults(14, time.UTC)
	maya.Version = 42
	leo := policy.Defaults(16, time.UTC)
	leo.Version = 7

	no := false
	c := &policy.Context{MutualFollow: &no, SenderIsAdult: &no, RecipientIsAdult: &no, HasMedia: &no, HasLink: &no}
	fmt.Println(policy.DecideDM(&leo, &maya, "tk_leo", "tk_maya", c, time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)))
	// Output: request not_friends by recipient v42
}

// A 14-year-old asks to open DMs to everyone, start quiet hours later and
// block someone. Blocking tightens, so the change needs a guardian's
// approval only for the other two, which the request lists.
func ExampleLoosenings() {
	current := policy.Defaults(14, nil)
	proposed := policy.Defaults(14, nil)
	proposed.Audience = policy.AudienceEveryone
	proposed.Quiet.Start = 23 * 60
	proposed.Blocked["u_ex"] = struct{}{}

	fmt.Println(policy.Stricter(&current, &proposed))
	for _, l := range policy.Loosenings(&current, &proposed) {
		fmt.Println(l)
	}
	// Output:
	// false
	// audience from friends to everyone
	// quiet hours from 22:00–07:00 to 23:00–07:00
}
