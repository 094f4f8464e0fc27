package store_test

import (
	"strings"
	"testing"

	"github.com/hearth-safety/hearth/models/store"
)

// FuzzNormalizeInviteCode feeds the teen's "enter a code" box arbitrary
// text. A code it accepts is 12 characters of the code alphabet, and is
// exactly what was typed with dashes and spaces taken out and ASCII
// letters made capital (nothing else is read as a code character); it
// normalizes to itself, and so does the way it is printed
// (FormatInviteCode), in either case.
func FuzzNormalizeInviteCode(f *testing.F) {
	for _, seed := range []string{
		"ABCD-EFGH-JKMN", "abcd efgh jkmn", " AbCd - EfGh - 2345 ", "ABCD-EFGH-JKM0", "ABCD-EFGH-JKMI",
		"ABCDEFGHJKMNP", "ABCD\u00a0EFGH\u3000JKMN", "ſſſſ-ſſſſ-ſſſſ", "ＡＢＣＤ-EFGH-JKMN", strings.Repeat("-", 70) + "ABCDEFGHJKMN", "",
	} {
		f.Add(seed)
	}
	const alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := store.NormalizeInviteCode(s)
		if !ok {
			if code != "" {
				t.Fatalf("refused %q but returned %q", s, code)
			}
			return
		}
		if len(code) != 12 || strings.Trim(code, alphabet) != "" {
			t.Fatalf("%q accepted as %q", s, code)
		}
		var typed strings.Builder
		for _, r := range s {
			switch {
			case r == '-' || r == ' ' || r >= '\t' && r <= '\r':
			case r >= 'a' && r <= 'z':
				typed.WriteRune(r - 'a' + 'A')
			default:
				typed.WriteRune(r)
			}
		}
		// Unicode spaces beyond ASCII are dropped too; anything else that
		// is left must be the code itself.
		rest := strings.Join(strings.Fields(typed.String()), "")
		if rest != code {
			t.Fatalf("%q accepted as %q, but what was typed reads %q", s, code, rest)
		}
		for _, form := range []string{code, store.FormatInviteCode(code), strings.ToLower(store.FormatInviteCode(code))} {
			if again, ok := store.NormalizeInviteCode(form); !ok || again != code {
				t.Fatalf("%q (from %q) normalizes to %q, %v", form, code, again, ok)
			}
		}
	})
}
