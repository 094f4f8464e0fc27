package policy

import (
	"encoding"
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// TestNames pins every API name and checks that String, Parse*, MarshalText
// and UnmarshalText agree, since the names are stored, counted and sent.
func TestNames(t *testing.T) {
	t.Parallel()
	t.Run("audience", func(t *testing.T) {
		t.Parallel()
		checkNames(t, []string{"everyone", "friends", "approved", "nobody"}, ParseAudience, Audience.String,
			func(v Audience) encoding.TextMarshaler { return v }, func(v *Audience) encoding.TextUnmarshaler { return v })
	})
	t.Run("outcome", func(t *testing.T) {
		t.Parallel()
		checkNames(t, []string{"allow", "hold", "request", "deny"}, ParseOutcome, Outcome.String,
			func(v Outcome) encoding.TextMarshaler { return v }, func(v *Outcome) encoding.TextUnmarshaler { return v })
	})
	t.Run("reason", func(t *testing.T) {
		t.Parallel()
		checkNames(t, []string{"allowed", "not_supervised", "blocked_contact", "approved_contact", "dms_off", "approved_only",
			"adult_stranger", "media_restricted", "not_friends", "new_account", "quiet_hours", "supervision_unavailable"},
			ParseReason, Reason.String,
			func(v Reason) encoding.TextMarshaler { return v }, func(v *Reason) encoding.TextUnmarshaler { return v })
	})
	t.Run("decided_by", func(t *testing.T) {
		t.Parallel()
		checkNames(t, []string{"none", "recipient", "sender"}, ParseDecidedBy, DecidedBy.String,
			func(v DecidedBy) encoding.TextMarshaler { return v }, func(v *DecidedBy) encoding.TextUnmarshaler { return v })
	})
}

func checkNames[T ~uint8](t *testing.T, names []string, parse func(string) (T, error), str func(T) string,
	marshaler func(T) encoding.TextMarshaler, unmarshaler func(*T) encoding.TextUnmarshaler) {
	t.Helper()
	for i, name := range names {
		v := T(i)
		if got := str(v); got != name {
			t.Errorf("%d.String() = %q, want %q", i, got, name)
		}
		if got, err := parse(name); err != nil || got != v {
			t.Errorf("Parse(%q) = %d, %v; want %d", name, got, err, i)
		}
		if b, err := marshaler(v).MarshalText(); err != nil || string(b) != name {
			t.Errorf("%d.MarshalText() = %q, %v; want %q", i, b, err, name)
		}
		var back T
		if err := unmarshaler(&back).UnmarshalText([]byte(name)); err != nil || back != v {
			t.Errorf("UnmarshalText(%q) = %d, %v; want %d", name, back, err, i)
		}
	}
	for _, bad := range []string{"", "Friends", " allow", "deny ", "quiet hours", "3"} {
		if _, err := parse(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) error = %v, want ErrInvalid", bad, err)
		}
		var back T
		if err := unmarshaler(&back).UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q) = nil error", bad)
		}
	}
	outOfRange := T(len(names))
	if _, err := marshaler(outOfRange).MarshalText(); !errors.Is(err, ErrInvalid) {
		t.Errorf("%d.MarshalText() error = %v, want ErrInvalid", outOfRange, err)
	}
	if s := str(outOfRange); slices.Contains(names, s) || s == "" {
		t.Errorf("%d.String() = %q, want something that is not a name", outOfRange, s)
	}
}

// TestNames_JSON checks that encoding/json writes names, not numbers.
func TestNames_JSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(struct {
		A Audience
		O Outcome
		R Reason
		D DecidedBy
	}{AudienceApproved, Request, ReasonNewAccount, DecidedBySender})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"A":"approved","O":"request","R":"new_account","D":"sender"}`; string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	if _, err := json.Marshal(Outcome(9)); err == nil {
		t.Error("json.Marshal(Outcome(9)) succeeded; an unreadable value must not reach the wire")
	}
}

func TestAllReasons(t *testing.T) {
	t.Parallel()
	all := AllReasons()
	if len(all) != 12 {
		t.Fatalf("AllReasons has %d reasons, want 12", len(all))
	}
	for i, r := range all {
		if r != Reason(i) {
			t.Errorf("AllReasons()[%d] = %s, want rule order", i, r)
		}
	}
	all[0] = ReasonQuietHours
	if AllReasons()[0] != ReasonAllowed {
		t.Error("changing the returned slice changed the next call's")
	}
}

// TestReason_Outcome pins which outcome each reason comes with, which views
// group by and Decide's results are checked against.
func TestReason_Outcome(t *testing.T) {
	t.Parallel()
	want := map[Reason]Outcome{
		ReasonAllowed: Allow, ReasonNotSupervised: Allow, ReasonApprovedContact: Allow,
		ReasonQuietHours: Hold, ReasonSupervisionUnavailable: Hold,
		ReasonNotFriends: Request, ReasonNewAccount: Request,
		ReasonBlockedContact: Deny, ReasonDMsOff: Deny, ReasonApprovedOnly: Deny, ReasonAdultStranger: Deny, ReasonMediaRestricted: Deny,
	}
	for _, r := range AllReasons() {
		if got := r.Outcome(); got != want[r] {
			t.Errorf("%s.Outcome() = %s, want %s", r, got, want[r])
		}
	}
	if got := Reason(200).Outcome(); got != Deny {
		t.Errorf("unknown reason's outcome = %s, want deny", got)
	}
}

func TestFactOf(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	for _, tt := range []struct {
		b    *bool
		want Fact
		name string
	}{{nil, Unknown, "unknown"}, {&no, No, "no"}, {&yes, Yes, "yes"}} {
		if got := FactOf(tt.b); got != tt.want || got.String() != tt.name {
			t.Errorf("FactOf = %s, want %s", got, tt.name)
		}
	}
	if Fact(9).String() != "unknown" {
		t.Errorf("Fact(9).String() = %q, want unknown", Fact(9).String())
	}
}
