package models

import (
	"errors"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The fuzz targets here cover the small parsers the handlers lean on. Their
// seed corpora live in testdata/fuzz/<target>/ and run with every plain
// `go test`.

// FuzzParseAlertCursor feeds the inbox's keyset cursor arbitrary text. A
// cursor is only a position: what parses is an alert ID of 1 or more and a
// time from 1970 to 9999, it writes back (String) as text that parses to
// the same position, and the canonical text it writes parses back to
// itself. What does not parse is refused with a message that does not
// repeat it.
func FuzzParseAlertCursor(f *testing.F) {
	for _, seed := range []string{
		"1764279000000000.42", "0.1", "1.0", "-1.5", "1.-5", ".1", "1.", "1", "", "a.b", "+1.+2", "01.02",
		"1.2.3", "9223372036854775807.9223372036854775807", "253402300800000000.1", "253402300799999999.1",
		"99999999999999999999.1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseAlertCursor(s)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) != 1 || ve.Errors[0].Field != "cursor" {
				t.Fatalf("refused %q with %v", s, err)
			}
			if len(s) >= 3 && strings.Contains(err.Error(), s) {
				t.Fatalf("the refusal repeats %q", s)
			}
			return
		}
		if c.ID < 1 || c.At.Before(time.Unix(0, 0)) || c.At.Year() > 9999 || c.At.Location() != time.UTC {
			t.Fatalf("%q read as %+v", s, c)
		}
		again, err := ParseAlertCursor(c.String())
		if err != nil || again != c {
			t.Fatalf("%q read as %+v, written %q, read back as %+v, %v", s, c, c.String(), again, err)
		}
		at, id, _ := strings.Cut(s, ".")
		us, _ := strconv.ParseInt(at, 10, 64)
		n, _ := strconv.ParseInt(id, 10, 64)
		if c.At.UnixMicro() != us || c.ID != n {
			t.Fatalf("%q read as %+v", s, c)
		}
	})
}

// FuzzAccountFields feeds the sign-up and account forms' email, name and
// password rules arbitrary text. Whatever they refuse is refused with a
// message that never repeats what was typed (a mistyped password must
// never be shown back); what they accept is within the limits: an email
// that normalizes to itself and parses as one bare address with a dot in
// its domain, a name of 1–100 characters without control characters, a
// password of 8–128 characters.
func FuzzAccountFields(f *testing.F) {
	for _, seed := range []string{
		"pat@example.com", " Pat@Example.COM ", "pat@localhost", "Pat <pat@example.com>", "pat@@example.com",
		"correct horse battery", "password", "Password1", "short", "Pat Parent", "Pat\x00", "é" + strings.Repeat("x", 130), "",
	} {
		f.Add(seed)
	}
	// Each rule refuses in a few fixed messages, learnt here from inputs
	// that break it in every way it knows; a refusal in any other words
	// could be repeating what was typed.
	messages := map[string]bool{}
	learn := func(err error) {
		if err != nil {
			messages[err.Error()] = true
		}
	}
	for _, s := range []string{"", strings.Repeat("x", 300) + "@example.com", "not an email"} {
		learn(ValidateEmail(s))
	}
	for _, s := range []string{"", strings.Repeat("x", MaxNameLen+1), "Pat\x00"} {
		learn(ValidateName(s))
	}
	for _, s := range []string{"", "short", strings.Repeat("x", MaxPasswordLen+1), "password"} {
		learn(ValidatePassword("password", s))
	}
	f.Fuzz(func(t *testing.T, s string) {
		refusal := func(what string, err error) {
			if !messages[err.Error()] {
				t.Fatalf("%s %q refused in words of its own: %v", what, s, err)
			}
		}
		email := NormalizeEmail(s)
		if NormalizeEmail(email) != email {
			t.Fatalf("NormalizeEmail is not idempotent on %q", s)
		}
		if err := ValidateEmail(email); err != nil {
			refusal("email", err)
		} else {
			a, perr := mail.ParseAddress(email)
			if perr != nil || a.Address != email || a.Name != "" || len(email) > MaxEmailLen ||
				!strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
				t.Fatalf("accepted email %q", email)
			}
		}
		if err := ValidateName(s); err != nil {
			refusal("name", err)
		} else if n := utf8.RuneCountInString(strings.TrimSpace(s)); n < 1 || n > MaxNameLen || strings.ContainsFunc(s, isControl) {
			t.Fatalf("accepted name %q", s)
		}
		if err := ValidatePassword("password", s); err != nil {
			refusal("password", err)
		} else if n := utf8.RuneCountInString(s); n < MinPasswordLen || n > MaxPasswordLen {
			t.Fatalf("accepted a password of %d characters", n)
		}
	})
}

// FuzzNormalizeCode feeds the staff sign-in's second-factor box arbitrary
// text. The normalized code has no spaces, dashes or capital ASCII
// letters, normalizing it again changes nothing, and it has the shape of
// a TOTP code only when it is six ASCII digits.
func FuzzNormalizeCode(f *testing.F) {
	for _, seed := range []string{"123 456", "123-456", "\u00a0123456\t", "ABCD-EFGH", "１２３４５６", "12345", "1234567", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := NormalizeCode(s)
		if strings.ContainsAny(c, " -\t\u00a0ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Fatalf("NormalizeCode(%q) = %q", s, c)
		}
		if NormalizeCode(c) != c {
			t.Fatalf("NormalizeCode is not idempotent on %q", s)
		}
		six := len(c) == 6 && strings.Trim(c, "0123456789") == ""
		if IsTOTPCode(c) != six {
			t.Fatalf("IsTOTPCode(%q) = %v", c, IsTOTPCode(c))
		}
	})
}
