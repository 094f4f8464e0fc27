package store_test

import (
	"errors"
	"testing"

	"github.com/hearth-safety/hearth/models"
)

func TestStore_AlertPreferences(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		g := w.guardian(t, "Pat Parent")
		other := w.guardian(t, "Olu Other")

		got, err := w.s.AlertPreferences(ctx, g.Actor)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Weekly || len(got.Immediate) != len(models.Categories) {
			t.Fatalf("defaults = %+v, want weekly and a choice per category", got)
		}
		for _, c := range models.Categories {
			if got.For(c) != models.ImmediateFromHigh {
				t.Errorf("default for %s = %s, want high", c, got.For(c))
			}
		}

		t.Run("saves_and_reads_back_only_the_viewers", func(t *testing.T) {
			p := models.DefaultAlertPreferences()
			p.Immediate[models.CategoryBullying] = models.ImmediateFromLow
			p.Immediate[models.CategorySpam] = models.ImmediateNever
			p.Immediate[models.CategorySelfHarm] = models.ImmediateFromMedium
			p.Weekly = false
			if err := w.s.SaveAlertPreferences(ctx, g.Actor, p); err != nil {
				t.Fatal(err)
			}
			got, err := w.s.AlertPreferences(ctx, g.Actor)
			if err != nil {
				t.Fatal(err)
			}
			if got.Weekly || got.For(models.CategoryBullying) != models.ImmediateFromLow ||
				got.For(models.CategorySpam) != models.ImmediateNever || got.For(models.CategorySelfHarm) != models.ImmediateFromMedium ||
				got.For(models.CategoryGrooming) != models.ImmediateFromHigh {
				t.Errorf("read back %+v", got)
			}
			if o, _ := w.s.AlertPreferences(ctx, other.Actor); !o.Weekly || o.For(models.CategoryBullying) != models.ImmediateFromHigh {
				t.Errorf("another guardian's preferences changed: %+v", o)
			}

			// Turning the digest back on, and a partial save keeping the rest.
			if err := w.s.SaveAlertPreferences(ctx, g.Actor, models.AlertPreferences{
				Immediate: map[models.Category]models.ImmediateFrom{models.CategorySpam: models.ImmediateFromCritical}, Weekly: true}); err != nil {
				t.Fatal(err)
			}
			got, _ = w.s.AlertPreferences(ctx, g.Actor)
			if !got.Weekly || got.For(models.CategorySpam) != models.ImmediateFromCritical || got.For(models.CategoryBullying) != models.ImmediateFromLow {
				t.Errorf("after the second save: %+v", got)
			}
		})

		t.Run("invalid_choices_save_nothing", func(t *testing.T) {
			before, _ := w.s.AlertPreferences(ctx, g.Actor)
			for name, p := range map[string]models.AlertPreferences{
				"unknown choice": {Immediate: map[models.Category]models.ImmediateFrom{
					models.CategoryHate: models.ImmediateFromLow, models.CategoryBullying: "sometimes"}},
				"unknown category": {Immediate: map[models.Category]models.ImmediateFrom{
					models.CategoryHate: models.ImmediateFromLow, "gossip": models.ImmediateFromLow}},
			} {
				err := w.s.SaveAlertPreferences(ctx, g.Actor, p)
				var ve *models.ValidationError
				if !errors.As(err, &ve) {
					t.Errorf("%s: err = %v, want a ValidationError", name, err)
				}
			}
			after, _ := w.s.AlertPreferences(ctx, g.Actor)
			if after.For(models.CategoryHate) != before.For(models.CategoryHate) || after.Weekly != before.Weekly {
				t.Errorf("a refused save changed something: %+v → %+v", before, after)
			}
		})

		t.Run("guardians_only", func(t *testing.T) {
			_, teen := w.teen(t, "Maya", "2012-06")
			staff := w.staff(t)
			for _, a := range []models.Actor{{}, teen.Actor, staff.Actor} {
				if _, err := w.s.AlertPreferences(ctx, a); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("AlertPreferences as %+v: %v, want ErrNotFound", a, err)
				}
				if err := w.s.SaveAlertPreferences(ctx, a, models.DefaultAlertPreferences()); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("SaveAlertPreferences as %+v: %v, want ErrNotFound", a, err)
				}
			}
			if n := rawInt(t, w.s, "SELECT COUNT(*) FROM alert_preferences WHERE user_id = ?", teen.UserID); n != 0 {
				t.Errorf("a teen has %d preference rows", n)
			}
		})
	})
}

func TestImmediateFrom_Emails(t *testing.T) {
	for _, c := range []struct {
		f    models.ImmediateFrom
		want []models.Severity
	}{
		{models.ImmediateFromLow, []models.Severity{models.SeverityLow, models.SeverityMedium, models.SeverityHigh, models.SeverityCritical}},
		{models.ImmediateFromMedium, []models.Severity{models.SeverityMedium, models.SeverityHigh, models.SeverityCritical}},
		{models.ImmediateFromHigh, []models.Severity{models.SeverityHigh, models.SeverityCritical}},
		{models.ImmediateFromCritical, []models.Severity{models.SeverityCritical}},
		{models.ImmediateNever, nil},
		{"", nil},
	} {
		var got []models.Severity
		for _, s := range models.Severities {
			if c.f.Emails(s) {
				got = append(got, s)
			}
		}
		if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("%q emails %v, want %v", c.f, got, c.want)
		}
	}
}
