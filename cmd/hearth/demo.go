package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web"
)

// demoAccounts are the documented demo people (DESIGN.md, "Demo world").
var demoAccounts = []store.NewUser{
	{Email: "parent@example.com", Name: "Priya Parent", Password: "demo-parent-pass", Role: models.RoleGuardian},
	{Email: "coparent@example.com", Name: "Chris Coparent", Password: "demo-coparent-pass", Role: models.RoleGuardian},
	{Email: "support@example.com", Name: "Sasha Support", Password: "demo-support-pass", Role: models.RoleLead},
}

// demoTeens are the documented demo teens with their ages today.
var demoTeens = []struct {
	ID, Name, Zone string
	Age            int
}{
	{"tk_maya", "Maya", "Europe/London", 14},
	{"tk_leo", "Leo", "America/New_York", 16},
	{"tk_sam", "Sam", "Asia/Tokyo", 15},
	{"tk_ava", "Ava", "Europe/Berlin", 17},
}

// birthMonthForAge returns a birth month that makes someone age years old
// now and for the next several months: born age years and two months ago.
func birthMonthForAge(now time.Time, age int) string {
	t := time.Date(now.Year()-age, now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -2, 0)
	return t.Format("2006-01")
}

func demoCmd(ctx context.Context, st *store.Store, cfg web.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stdout)
	force := fs.Bool("force", false, "seed even though the database already has data (existing demo records are reused)")
	apiKey := fs.String("api-key", "", "use this API key for the demo client (32+ characters of A-Z a-z 0-9 _)")
	secret := fs.String("webhook-secret", "", "use this webhook secret (whsec_ and base64 of 24–64 bytes)")
	extra := fs.Int("teens", 0, "also provision N more teens (for load tests)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *extra < 0 || *extra > 1_000_000 {
		return errors.New("demo: --teens must be between 0 and 1000000")
	}
	empty, err := st.Empty(ctx)
	if err != nil {
		return err
	}
	if !empty && !*force {
		return errors.New("demo: the database already has accounts or clients; the demo only fills an empty one (use --force to add the demo world anyway)")
	}
	now := st.Now()

	fmt.Fprintln(stdout, "Creating demo accounts…")
	for _, a := range demoAccounts {
		_, err := st.CreateUser(ctx, a)
		switch {
		case errors.Is(err, models.ErrConflict):
			fmt.Fprintf(stdout, "  %s exists already, kept\n", a.Email)
		case err != nil:
			return fmt.Errorf("demo: create %s: %w", a.Email, err)
		default:
			fmt.Fprintf(stdout, "  %-22s %-20s %s\n", a.Email, a.Password, a.Role.Label())
		}
	}

	fmt.Fprintln(stdout, "Creating the demo service client…")
	client, key, err := st.CreateClient(ctx, store.NewClient{Name: "demo-messenger", Key: *apiKey, Secret: *secret})
	switch {
	case errors.Is(err, models.ErrConflict):
		cs, lerr := st.Clients(ctx)
		if lerr != nil {
			return lerr
		}
		for _, c := range cs {
			if c.Name == "demo-messenger" {
				client = c
			}
		}
		key = "(unchanged: shown only when the client was created)"
		fmt.Fprintln(stdout, "  demo-messenger exists already, kept")
	case err != nil:
		return fmt.Errorf("demo: %w", err)
	}

	fmt.Fprintln(stdout, "Provisioning demo teens…")
	for _, t := range demoTeens {
		if _, _, err := st.UpsertTeen(ctx, client.ID, t.ID, store.TeenInput{DisplayName: t.Name, BirthMonth: birthMonthForAge(now, t.Age), TimeZone: t.Zone}); err != nil {
			return fmt.Errorf("demo: provision %s: %w", t.ID, err)
		}
		fmt.Fprintf(stdout, "  %-8s %-6s age %d, %s\n", t.ID, t.Name, t.Age, t.Zone)
	}
	if *extra > 0 {
		fmt.Fprintf(stdout, "Provisioning %d more teens…\n", *extra)
		zones := []string{"Europe/London", "America/New_York", "Asia/Tokyo", "Europe/Berlin", "Australia/Sydney"}
		for i := range *extra {
			id := fmt.Sprintf("tk_load_%06d", i+1)
			if _, _, err := st.UpsertTeen(ctx, client.ID, id, store.TeenInput{DisplayName: fmt.Sprintf("Teen %d", i+1),
				BirthMonth: birthMonthForAge(now, 13+i%5), TimeZone: zones[i%len(zones)]}); err != nil {
				return fmt.Errorf("demo: provision %s: %w", id, err)
			}
			if (i+1)%10000 == 0 {
				fmt.Fprintf(stdout, "  %d of %d\n", i+1, *extra)
			}
		}
	}

	fmt.Fprintf(stdout, "\nDemo service client %q\n  API key:        %s\n  Webhook secret: %s\n", client.Name, key, client.WebhookSecret)
	fmt.Fprintf(stdout, "\nSign in at %s/login as parent@example.com / demo-parent-pass,\nor as support at %s/staff/login with support@example.com / demo-support-pass.\n", cfg.BaseURL, cfg.BaseURL)
	fmt.Fprintf(stdout, "A teen signs in through a link: curl -X POST -H 'Authorization: Bearer <API key>' %s/api/v1/teens/tk_maya/signin-links\n", cfg.BaseURL)
	return nil
}
