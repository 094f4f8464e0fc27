package handlers

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/policy"
	"github.com/hearth-safety/hearth/views/pages"
)

// The fuzz targets here cover the API bodies not covered in
// decode_fuzz_test.go, the forms, and the query strings of the inbox and
// the staff queue. Their seed corpora live in testdata/fuzz/<target>/ and
// run with every plain `go test`.

// fuzzCanary stands in for text a caller sent: an error that repeats it
// would repeat whatever a careless integration put in that field.
const fuzzCanary = "zq7CANARYx"

// withCanaries returns body with each top-level string value in turn
// replaced by fuzzCanary, keyed by the field it went into; nil when body
// is not a JSON object.
func withCanaries(body []byte) map[string][]byte {
	var obj map[string]any
	if json.Unmarshal(body, &obj) != nil {
		return nil
	}
	out := map[string][]byte{}
	for k, v := range obj {
		if _, ok := v.(string); !ok {
			continue
		}
		c := make(map[string]any, len(obj))
		for k2, v2 := range obj {
			c[k2] = v2
		}
		c[k] = fuzzCanary
		b, err := json.Marshal(c)
		if err == nil {
			out[k] = b
		}
	}
	return out
}

// checkRefusal fails unless err says what is wrong: a non-empty message,
// and a validation error names at least one field.
func checkRefusal(t *testing.T, err error) {
	t.Helper()
	if err.Error() == "" {
		t.Fatal("refused without saying why")
	}
	var ve *models.ValidationError
	if errors.As(err, &ve) && len(ve.Errors) == 0 {
		t.Fatalf("validation failed without naming a field: %v", err)
	}
}

// FuzzDecodeTeen feeds arbitrary bodies to PUT /api/v1/teens/{id}'s
// decoder and the store's validation of what it decodes. Whatever comes
// in, it must not panic, and:
//
//   - a body it accepts names only the contract's three fields, all of
//     them, and decodes to exactly their values;
//   - what the validation accepts has a display name of 1–64 characters
//     without control characters, a birth month that writes back as
//     itself and makes the teen 13–17, and a zone that loads;
//   - a refusal says why, and never repeats the display name or the birth
//     month the caller sent (the time zone is named back, quoted, so the
//     caller sees which zone is unknown).
func FuzzDecodeTeen(f *testing.F) {
	for _, seed := range []string{
		`{"display_name":"Maya","birth_month":"2012-04","timezone":"Europe/London"}`,
		`{"display_name":"  Leo  ","birth_month":"2010-01","timezone":"America/New_York"}`,
		`{"display_name":"Maya","birth_month":"2012-04"}`,
		`{"display_name":"Maya","birth_month":"2012-04","timezone":"Europe/London","text":"x"}`,
		`{"Display_Name":"Maya","birth_month":"2012-04","timezone":"Europe/London"}`,
		`{"display_name":"Maya","display_name":"Leo","birth_month":"2012-04","timezone":"UTC"}`,
		`{"display_name":"Maya\u0007","birth_month":"2012-04","timezone":"UTC"}`,
		`{"display_name":"Maya","birth_month":"1990-04","timezone":"Local"}`,
		`{"display_name":"Maya","birth_month":"2012-13","timezone":"+05:00"}`,
		`{"display_name":"Maya","birth_month":"2020-01","timezone":"../../etc/passwd"}`,
		`{"display_name":null,"birth_month":"2012-04","timezone":"UTC"}`,
		`{"display_name":5,"birth_month":"2012-04","timezone":"UTC"}`,
		`{"display_name":"` + strings.Repeat("é", 65) + `","birth_month":"2012-04","timezone":"UTC"}`,
		`[]`, `null`, `{`, `{}{}`, ``, `"x"`,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC)
	allowed := map[string]bool{"display_name": true, "birth_month": true, "timezone": true}
	f.Fuzz(func(t *testing.T, body []byte) {
		validate := func(body []byte) (store.TeenInput, models.BirthMonth, error, error) {
			in, err := decodeTeen(body)
			if err != nil {
				return in, models.BirthMonth{}, err, nil
			}
			bm, verr := store.ValidateTeenInput("tk_maya", in, now)
			return in, bm, nil, verr
		}
		for field, b := range withCanaries(body) {
			_, _, derr, verr := validate(b)
			for _, err := range []error{derr, verr} {
				if err != nil && field != "timezone" && strings.Contains(err.Error(), fuzzCanary) {
					t.Fatalf("the refusal repeats the %s sent: %v", field, err)
				}
			}
		}

		in, bm, err, verr := validate(body)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("accepted a body that is not a JSON object: %v", err)
		}
		for k := range raw {
			if !allowed[k] {
				t.Fatalf("accepted a body with field %q", k)
			}
		}
		var want struct {
			DisplayName string `json:"display_name"`
			BirthMonth  string `json:"birth_month"`
			Timezone    string `json:"timezone"`
		}
		if err := json.Unmarshal(body, &want); err != nil || len(raw) != 3 {
			t.Fatalf("accepted %d fields (%v)", len(raw), err)
		}
		if in != (store.TeenInput{DisplayName: want.DisplayName, BirthMonth: want.BirthMonth, TimeZone: want.Timezone}) {
			t.Fatalf("decoded %+v from %+v", in, want)
		}
		if verr != nil {
			checkRefusal(t, verr)
			return
		}
		name := strings.TrimSpace(in.DisplayName)
		if n := len([]rune(name)); n < 1 || n > models.MaxDisplayNameLen || strings.ContainsFunc(in.DisplayName, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("accepted display name %q", in.DisplayName)
		}
		if again, err := models.ParseBirthMonth(bm.String(), now); err != nil || again != bm || bm.String() != strings.TrimSpace(in.BirthMonth) {
			t.Fatalf("birth month %q read as %s, which reads back as %v, %v", in.BirthMonth, bm, again, err)
		}
		if age := bm.AgeAt(now); age < models.MinSupervisedAge || age > models.MaxSupervisedAge {
			t.Fatalf("accepted a teen of %d", age)
		}
		if _, err := time.LoadLocation(in.TimeZone); err != nil || in.TimeZone == "Local" || in.TimeZone == "" {
			t.Fatalf("accepted zone %q: %v", in.TimeZone, err)
		}
	})
}

// FuzzDecodeDMBatch feeds arbitrary bodies to the batch DM check's decoder
// and validation. It must not panic, and:
//
//   - a batch it accepts holds 1 to 500 checks, names only the contract's
//     fields, and each of its checks is accepted on its own, with the same
//     sent_at, as POST /api/v1/dm/check would accept it;
//   - a batch it refuses after decoding has no checks, too many, or a
//     check refused on its own, and every problem names a field under
//     "checks";
//   - a refusal never repeats an ID the caller sent.
func FuzzDecodeDMBatch(f *testing.F) {
	check := `{"sender_id":"u_1","recipient_id":"tk_maya","sent_at":"2026-11-27T21:30:00Z","context":{"mutual_follow":false,"sender_is_adult":true,"sender_account_age_days":3,"recipient_is_adult":false,"recipient_account_age_days":400,"has_media":false,"has_link":false},"min_policy_version":2}`
	for _, seed := range []string{
		`{"checks":[` + check + `]}`,
		`{"checks":[` + check + `,{"sender_id":"a","recipient_id":"b"}]}`,
		`{"checks":[{"sender_id":"a","recipient_id":"a"}]}`,
		`{"checks":[{"sender_id":"a","recipient_id":"b","sent_at":"yesterday"}]}`,
		`{"checks":[{"sender_id":"a","recipient_id":"b","min_policy_version":-1}]}`,
		`{"checks":[{"sender_id":"a","recipient_id":"b","context":{"sender_account_age_days":-1}}]}`,
		`{"checks":[{"sender_id":"a","recipient_id":"b","text":"x"}]}`,
		`{"checks":[{"sender_id":"a","recipient_id":"b"}],"content":"x"}`,
		`{"checks":[{"sender_id":"a b","recipient_id":"b"}]}`,
		`{"checks":[]}`, `{"checks":null}`, `{}`, `{"Checks":[]}`,
		`{"checks":[` + strings.TrimSuffix(strings.Repeat(`{"sender_id":"a","recipient_id":"b"},`, MaxBatch+1), ",") + `]}`,
		`[]`, `null`, `{`, `{}{}`, ``,
	} {
		f.Add([]byte(seed))
	}
	top := map[string]bool{"checks": true}
	fields := map[string]bool{"sender_id": true, "recipient_id": true, "sent_at": true, "context": true, "min_policy_version": true}
	f.Fuzz(func(t *testing.T, body []byte) {
		var b dmBatch
		if err := DecodeStrict(body, &b); err != nil {
			checkRefusal(t, err)
			return
		}
		times, err := b.validate()
		if err != nil {
			checkRefusal(t, err)
			var ve *models.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("refused a decoded batch with %v, want a validation error", err)
			}
			for _, fe := range ve.Errors {
				if !strings.HasPrefix(fe.Field, "checks") {
					t.Fatalf("problem with field %q, not under checks", fe.Field)
				}
			}
			for _, c := range b.Checks {
				for _, id := range []*string{c.SenderID, c.RecipientID} {
					if id != nil && len(*id) >= 8 && strings.Contains(err.Error(), *id) {
						t.Fatalf("the refusal repeats the ID %q", *id)
					}
				}
			}
			if n := len(b.Checks); n >= 1 && n <= MaxBatch && !slices.ContainsFunc(b.Checks, func(c dmCheck) bool {
				ve := &models.ValidationError{}
				c.validate("", ve)
				return ve.Err() != nil
			}) {
				t.Fatalf("refused %d checks that each pass alone: %v", n, err)
			}
			return
		}
		if len(b.Checks) == 0 || len(b.Checks) > MaxBatch || len(times) != len(b.Checks) {
			t.Fatalf("accepted %d checks with %d times", len(b.Checks), len(times))
		}
		for i, c := range b.Checks {
			ve := &models.ValidationError{}
			at := c.validate("", ve)
			if ve.Err() != nil || !at.Equal(times[i]) {
				t.Fatalf("check %d: accepted in a batch at %s, alone %s, %v", i, times[i], at, ve.Err())
			}
			if !models.PlatformIDOK(*c.SenderID) || !models.PlatformIDOK(*c.RecipientID) || *c.SenderID == *c.RecipientID {
				t.Fatalf("check %d: accepted IDs %q and %q", i, *c.SenderID, *c.RecipientID)
			}
		}
		var raw map[string]json.RawMessage
		if json.Unmarshal(body, &raw) != nil {
			return
		}
		for k := range raw {
			if !top[k] {
				t.Fatalf("accepted a batch with field %q", k)
			}
		}
		var checks []map[string]json.RawMessage
		if json.Unmarshal(raw["checks"], &checks) != nil {
			return
		}
		for _, c := range checks {
			for k := range c {
				if !fields[k] {
					t.Fatalf("accepted a check with field %q", k)
				}
			}
		}
	})
}

// rulesValues is what the Messages page posts for f, as its inputs name
// the fields.
func rulesValues(f pages.RulesForm) url.Values {
	v := url.Values{"audience": {f.Audience}, "quiet_start": {f.QuietStart}, "quiet_end": {f.QuietEnd},
		"min_sender_account_age_days": {f.MinSenderAccountAgeDays}}
	for name, on := range map[string]bool{"quiet_enabled": f.QuietEnabled, "quiet_approved_exempt": f.QuietApprovedExempt,
		"block_adult_strangers": f.BlockAdultStrangers, "media_friends_only": f.MediaFriendsOnly} {
		if on {
			v.Set(name, "on")
		}
	}
	for kind, rows := range map[string][]pages.ContactRow{"approved": f.Approved, "blocked": f.Blocked} {
		for _, r := range rows {
			v.Add(kind+"_id", r.ID)
			v.Add(kind+"_label", r.Label)
		}
	}
	return v
}

// FuzzParseRulesForm feeds the Messages form arbitrary posted values. It
// must not panic, and:
//
//   - every field error is one of the form's own fields, in that field's
//     fixed words, which cannot repeat what was typed;
//   - rules it reads without error keep the audience, times and minimum age
//     in range, and every contact row typed with an ID, trimmed, in order;
//   - rules it reads that also pass the store's validation survive a round
//     trip: shown in the form (rulesForm) and posted back, they read as
//     the same rules.
func FuzzParseRulesForm(f *testing.F) {
	for _, seed := range []string{
		"audience=friends&quiet_enabled=on&quiet_start=22%3A00&quiet_end=07%3A00&quiet_approved_exempt=on&min_sender_account_age_days=30&approved_id=u_gran&approved_label=Gran&blocked_id=u_troll&blocked_label=",
		"audience=nobody&min_sender_account_age_days=",
		"audience=everyone&quiet_start=&quiet_end=",
		"audience=approved&quiet_enabled=on&quiet_start=7%3A5&quiet_end=24%3A00",
		"audience=Friends&quiet_enabled=on&quiet_start=22%3A00&quiet_end=22%3A00",
		"audience=friends&min_sender_account_age_days=-1",
		"audience=friends&min_sender_account_age_days=3651",
		"audience=friends&min_sender_account_age_days=99999999999999999999",
		"audience=friends&approved_id=u_a&approved_id=+u_b+&approved_label=A&blocked_id=u_a",
		"audience=friends&approved_id=&approved_label=lost&approved_id=u_c",
		"audience=friends&approved_id=bad%20id&approved_label=%07",
		"audience=5", "", "%zz", "audience=friends&audience=nobody",
	} {
		f.Add(seed)
	}
	// Each field has one message, learnt from a form wrong in every field:
	// words that depend on what was typed could repeat it.
	_, _, messages := parseRulesForm(url.Values{"audience": {"x"}, "quiet_enabled": {"on"}, "quiet_start": {"x"},
		"quiet_end": {"x"}, "min_sender_account_age_days": {"x"}})
	if len(messages) != 4 {
		f.Fatalf("a form wrong in every field gave %v", messages)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, _ := url.ParseQuery(raw)
		typed, p, errs := parseRulesForm(form)
		for field, msg := range errs {
			if want, ok := messages[field]; !ok || msg != want {
				t.Fatalf("error %q for field %q, want %q", msg, field, want)
			}
		}
		if len(errs) > 0 {
			return
		}
		if a, err := policy.ParseAudience(form.Get("audience")); err != nil || a != p.Audience {
			t.Fatalf("audience %q read as %s", form.Get("audience"), p.Audience)
		}
		if p.QuietStart >= 24*60 || p.QuietEnd >= 24*60 || p.MinSenderAccountAgeDays < 0 || p.MinSenderAccountAgeDays > policy.MaxMinSenderAccountAgeDays {
			t.Fatalf("read out-of-range rules %+v", p)
		}
		for _, kind := range []string{"approved", "blocked"} {
			var want []string
			for _, id := range form[kind+"_id"] {
				if id = strings.TrimSpace(id); id != "" {
					want = append(want, id)
				}
			}
			list := p.Approved
			if kind == "blocked" {
				list = p.Blocked
			}
			var got []string
			for _, c := range list {
				got = append(got, c.PlatformUserID)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s contacts %q read as %q", kind, want, got)
			}
		}
		if p.Validate() != nil {
			return
		}
		shown := rulesForm(p)
		_, back, errs := parseRulesForm(rulesValues(shown))
		if len(errs) > 0 || !models.SameRules(p, back) {
			t.Fatalf("rules %+v shown as %+v read back as %+v (%v)", p, shown, back, errs)
		}
		// What the form shows back after an error is what was typed.
		if typed.Audience != form.Get("audience") || typed.QuietEnabled != (form.Get("quiet_enabled") != "") {
			t.Fatalf("typed %+v shown back as %+v", form, typed)
		}
	})
}

// FuzzParseAlertPrefs feeds the alert email preferences form arbitrary
// posted values. It must not panic, and for every category either the
// choice is one offered and kept, or there is an error beside that
// category's field (in fixed words) and nothing is kept; what it keeps
// passes AlertPreferences.Validate; and preferences it reads whole survive
// being posted back.
func FuzzParseAlertPrefs(f *testing.F) {
	all := url.Values{pages.FieldWeekly: {pages.CheckedValue}}
	for _, c := range models.Categories {
		all.Set(pages.FieldImmediatePrefix+string(c), "high")
	}
	f.Add(all.Encode())
	for _, seed := range []string{
		"immediate_grooming=low&immediate_bullying=never&weekly=" + pages.CheckedValue,
		"immediate_grooming=HIGH", "immediate_grooming=", "weekly=on", "immediate_unknown=low", "%zz", "",
		"immediate_grooming=low&immediate_grooming=critical",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, _ := url.ParseQuery(raw)
		p, choices, errs := parseAlertPrefs(form)
		if p.Weekly != (form.Get(pages.FieldWeekly) == pages.CheckedValue) {
			t.Fatalf("weekly %q read as %v", form.Get(pages.FieldWeekly), p.Weekly)
		}
		for _, c := range models.Categories {
			field := pages.FieldImmediatePrefix + string(c)
			v := form.Get(field)
			if choices[c] != v {
				t.Fatalf("%s: typed %q, shown back %q", field, v, choices[c])
			}
			got, kept := p.Immediate[c]
			msg, refused := errs[field]
			switch {
			case kept == refused:
				t.Fatalf("%s = %q: kept %v, refused %v", field, v, kept, refused)
			case kept && (string(got) != v || !got.Valid()):
				t.Fatalf("%s = %q kept as %q", field, v, got)
			case refused && msg != "Choose when "+c.Label()+" alerts email you.":
				t.Fatalf("%s = %q refused with %q", field, v, msg)
			}
		}
		if len(errs)+len(p.Immediate) != len(models.Categories) {
			t.Fatalf("%d errors and %d choices for %d categories", len(errs), len(p.Immediate), len(models.Categories))
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("kept preferences that do not validate: %v", err)
		}
		if len(errs) > 0 {
			return
		}
		back := url.Values{}
		if p.Weekly {
			back.Set(pages.FieldWeekly, pages.CheckedValue)
		}
		for c, v := range p.Immediate {
			back.Set(pages.FieldImmediatePrefix+string(c), string(v))
		}
		again, _, errs := parseAlertPrefs(back)
		if len(errs) > 0 || !reflect.DeepEqual(again, p) {
			t.Fatalf("%+v posted back read as %+v (%v)", p, again, errs)
		}
	})
}

// FuzzParseNewDispute feeds the "Report a problem" form arbitrary posted
// values, as a teen and as a guardian. It must not panic, and: the kind
// and description go to the store exactly as typed (the store checks
// them); a subject that is not a positive ID is not found, as someone
// else's would be; a teen's form only ever names a link and a guardian's
// only a teen, so neither can file about someone the form does not offer.
func FuzzParseNewDispute(f *testing.F) {
	for _, seed := range []string{
		"kind=rule_unfair&description=Quiet+hours+start+too+early&link=3",
		"kind=not_my_guardian&description=I+don%27t+know+them&teen=7",
		"kind=rule_unfair&description=x&teen=7&link=3",
		"kind=rule_unfair&description=x&link=-1",
		"kind=rule_unfair&description=x&link=0",
		"kind=rule_unfair&description=x&link=+12+",
		"kind=rule_unfair&description=x&link=99999999999999999999",
		"kind=rule_unfair&description=x&link=0x10",
		"kind=&description=", "%zz", "",
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, raw string, teen bool) {
		form, _ := url.ParseQuery(raw)
		role, field := models.RoleGuardian, pages.FieldTeen
		if teen {
			role, field = models.RoleTeen, pages.FieldLink
		}
		in, subject, err := parseNewDispute(form, role)
		if subject != strings.TrimSpace(form.Get(field)) {
			t.Fatalf("subject %q shown back as %q", form.Get(field), subject)
		}
		id, perr := strconv.ParseInt(subject, 10, 64)
		if err != nil {
			if !errors.Is(err, models.ErrNotFound) || subject == "" || (perr == nil && id > 0) {
				t.Fatalf("subject %q refused with %v", subject, err)
			}
			return
		}
		if in.Kind != models.DisputeKind(form.Get(pages.FieldKind)) || in.Description != form.Get(pages.FieldDescription) {
			t.Fatalf("read %+v from %v", in, form)
		}
		var want int64
		if subject != "" {
			if perr != nil || id <= 0 {
				t.Fatalf("accepted subject %q", subject)
			}
			want = id
		}
		if teen && (in.TeenID != 0 || in.LinkID != want) || !teen && (in.LinkID != 0 || in.TeenID != want) {
			t.Fatalf("a %s's subject %q read as teen %d, link %d", role, subject, in.TeenID, in.LinkID)
		}
	})
}

// FuzzParseDisputeAction feeds a case page's action forms arbitrary posted
// values. It must not panic, and: the kind is the route's, never the
// form's; the reason goes to the store as typed; each number is the one
// typed, or 0 when it does not parse; and the case is assigned to the
// staff member posting only when they chose "me" or typed their own ID.
func FuzzParseDisputeAction(f *testing.F) {
	for _, seed := range []string{
		"version=4&reason=Checked+with+the+guardian&form=assign&assignee=me",
		"version=4&reason=x&assignee=12",
		"version=4&reason=x&link=9&proposal=end_link",
		"version=4&reason=x&guardian=5&proposal=disable_guardian",
		"version=-1&reason=&link=abc&guardian=99999999999999999999&assignee=ME",
		"kind=disable&version=1", "%zz", "",
	} {
		f.Add(seed, uint8(0), int64(12))
	}
	kinds := []models.DisputeActionKind{}
	for k := range staffDone {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	f.Fuzz(func(t *testing.T, raw string, k uint8, me int64) {
		form, _ := url.ParseQuery(raw)
		kind := kinds[int(k)%len(kinds)]
		a := parseDisputeAction(kind, form, me)
		if a.Kind != kind || a.Reason != form.Get(pages.FieldReason) || a.Proposal != models.ProposalAction(form.Get("proposal")) {
			t.Fatalf("read %+v from %v as %s", a, form, kind)
		}
		num := func(name string) int64 {
			n, err := strconv.ParseInt(form.Get(name), 10, 64)
			if err != nil {
				return 0
			}
			return n
		}
		if a.Version != num("version") || a.LinkID != num("link") || a.GuardianID != num("guardian") {
			t.Fatalf("numbers of %v read as %+v", form, a)
		}
		if want := num("assignee"); form.Get("assignee") == "me" {
			want = me
			if a.AssigneeID != want {
				t.Fatalf("assignee me read as %d, not %d", a.AssigneeID, me)
			}
		} else if a.AssigneeID != want {
			t.Fatalf("assignee %q read as %d", form.Get("assignee"), a.AssigneeID)
		}
	})
}

// FuzzAlertQuery feeds the alert inbox's query string arbitrary text. It
// must not panic, and:
//
//   - each filter is set only from a value that means it (a positive teen
//     ID, a known category, severity or state), and the form shows back
//     exactly the filters in force;
//   - the position is at most one cursor, and a cursor is only a position:
//     it reads back as itself, and without the teen parameter no query,
//     cursor or not, can name a teen, so a cursor cannot widen whose alerts
//     are read (the store scopes the rest by the viewer);
//   - the filters written out for the pager's links (filterQuery) read
//     back as the same filters.
func FuzzAlertQuery(f *testing.F) {
	for _, seed := range []string{
		"teen=7&category=grooming&severity=high&state=unread",
		"teen=7&before=1764279000000000.42",
		"after=1764279000000000.42&before=1764279000000000.41",
		"teen=-7&category=Grooming&severity=urgent&state=all",
		"teen=007&teen=8", "teen=99999999999999999999",
		"before=1764279000000000", "before=.42", "before=-1.42", "before=1.0", "before=+1.+2",
		"before=9223372036854775807.9223372036854775807",
		"after=1764279000000000.42&teen=3", "%zz", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw)
		fl, form := alertQuery(q)
		if fl.TeenID != nil {
			if *fl.TeenID <= 0 || form.Teen != q.Get("teen") {
				t.Fatalf("teen %q read as %d, shown as %q", q.Get("teen"), *fl.TeenID, form.Teen)
			}
			if n, err := strconv.ParseInt(q.Get("teen"), 10, 64); err != nil || n != *fl.TeenID {
				t.Fatalf("teen %q read as %d", q.Get("teen"), *fl.TeenID)
			}
		} else if form.Teen != "" {
			t.Fatalf("shows teen %q without filtering by it", form.Teen)
		}
		if fl.Category != nil && (!fl.Category.Valid() || string(*fl.Category) != form.Category) || fl.Category == nil && form.Category != "" {
			t.Fatalf("category %q read as %v, shown as %q", q.Get("category"), fl.Category, form.Category)
		}
		if fl.MinSeverity != nil && (!fl.MinSeverity.Valid() || string(*fl.MinSeverity) != form.Severity) || fl.MinSeverity == nil && form.Severity != "" {
			t.Fatalf("severity %q read as %v, shown as %q", q.Get("severity"), fl.MinSeverity, form.Severity)
		}
		if fl.State != "" && fl.State != models.AlertRead && fl.State != models.AlertUnread || string(fl.State) != form.State {
			t.Fatalf("state %q read as %q, shown as %q", q.Get("state"), fl.State, form.State)
		}
		if fl.Before != nil && fl.After != nil {
			t.Fatal("read two positions")
		}
		for _, c := range []*models.AlertCursor{fl.Before, fl.After} {
			if c == nil {
				continue
			}
			if c.ID < 1 || c.At.Before(time.Unix(0, 0)) {
				t.Fatalf("read cursor %+v", *c)
			}
			if again, err := models.ParseAlertCursor(c.String()); err != nil || again != *c {
				t.Fatalf("cursor %+v wrote %q, which reads back as %+v, %v", *c, c.String(), again, err)
			}
		}
		if fl.Limit != 0 {
			t.Fatalf("the query set a limit of %d", fl.Limit)
		}
		noTeen := url.Values{}
		for k, v := range q {
			if k != "teen" {
				noTeen[k] = v
			}
		}
		if other, _ := alertQuery(noTeen); other.TeenID != nil {
			t.Fatalf("%v names teen %d without a teen parameter", noTeen, *other.TeenID)
		}
		back, backForm := alertQuery(filterQuery(form, false))
		back.Before, back.After, fl.Before, fl.After = nil, nil, nil, nil
		if !reflect.DeepEqual(back, fl) || backForm != form {
			t.Fatalf("filters %+v written out read back as %+v", form, backForm)
		}
	})
}

// FuzzSafeNext feeds the "next" parameter of sign-in and of every form
// that returns somewhere arbitrary text. What it lets through must stay
// on Hearth as a browser reads it: a path starting with one slash, after
// the browser drops tabs and newlines and treats backslashes as slashes.
// Anything else falls back.
func FuzzSafeNext(f *testing.F) {
	for _, seed := range []string{
		"/alerts?teen=7", "/teens/7/messages", "//evil.example", "/\\evil.example", "https://evil.example",
		"/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example", "/%2F/evil.example",
		"javascript:alert(1)", "/ok\x00", "", "/",
	} {
		f.Add(seed)
	}
	const fallback = "/fallback"
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next, fallback)
		if got != next && got != fallback {
			t.Fatalf("safeNext(%q) = %q: neither the input nor the fallback", next, got)
		}
		if got == fallback {
			return
		}
		// What a browser makes of it (the URL standard strips ASCII tab
		// and newline anywhere, and reads \ as / in http(s) URLs).
		seen := strings.ReplaceAll(strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, got), `\`, "/")
		if !strings.HasPrefix(seen, "/") || strings.HasPrefix(seen, "//") {
			t.Fatalf("safeNext(%q) let through a link a browser reads as %q", next, seen)
		}
		if strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("safeNext(%q) let through a control character", next)
		}
		u, err := url.Parse(got)
		if err == nil && (u.Scheme != "" || u.Host != "") {
			t.Fatalf("safeNext(%q) let through a link to %s://%s", next, u.Scheme, u.Host)
		}
	})
}
