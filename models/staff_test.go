package models

import (
	"encoding/base32"
	"testing"
	"time"
)

// TestTOTPCode checks codes against RFC 6238's SHA-1 test vectors (the
// last six of their eight digits), so they match what authenticator apps
// show.
func TestTOTPCode(t *testing.T) {
	t.Parallel()
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))
	for unix, want := range map[int64]string{
		59: "287082", 1111111109: "081804", 1111111111: "050471", 1234567890: "005924", 2000000000: "279037", 20000000000: "353130",
	} {
		got, err := TOTPCode(secret, time.Unix(unix, 0))
		if err != nil || got != want {
			t.Errorf("TOTPCode at %d = %q (%v), want %q", unix, got, err, want)
		}
	}
	if TOTPStep(time.Unix(59, 0)) != 1 || TOTPStep(time.Unix(60, 0)) != 2 {
		t.Error("TOTPStep does not count 30-second steps")
	}
}

func TestNormalizeCode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		" 123 456 ": "123456", "ABCDE-FGHJK": "abcdefghjk", "abcde fghjk\t": "abcdefghjk", "12\u00a034-56": "123456",
	} {
		if got := NormalizeCode(in); got != want {
			t.Errorf("NormalizeCode(%q) = %q, want %q", in, got, want)
		}
	}
	for code, want := range map[string]bool{"123456": true, "12345": false, "1234567": false, "12345a": false, "abcdefghjk": false} {
		if IsTOTPCode(code) != want {
			t.Errorf("IsTOTPCode(%q) = %v", code, !want)
		}
	}
}
