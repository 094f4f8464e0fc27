package views

import "testing"

func TestJoinNames(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"A"}, "A"},
		{[]string{"A", "B"}, "A and B"},
		{[]string{"A", " ", "B", "C"}, "A, B and C"},
		{[]string{"A", "B", "C", "D"}, "A, B, C and D"},
	} {
		if got := JoinNames(c.in); got != c.want {
			t.Errorf("JoinNames(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRole(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		role                Role
		label, home, logout string
	}{
		{RoleAnonymous, "", "/", "/logout"},
		{RoleGuardian, "Guardian", "/", "/logout"},
		{RoleTeen, "Teen", "/teen", "/logout"},
		{RoleStaff, "Support agent", "/staff", "/staff/logout"},
		{RoleLead, "Support lead", "/staff", "/staff/logout"},
	} {
		if c.role.Label() != c.label || c.role.HomePath() != c.home || c.role.LogoutPath() != c.logout {
			t.Errorf("%q: label %q home %q logout %q", c.role, c.role.Label(), c.role.HomePath(), c.role.LogoutPath())
		}
	}
	if (Page{}).Role() != RoleAnonymous || (Page{Viewer: &Viewer{Role: RoleTeen}}).Role() != RoleTeen {
		t.Error("Page.Role is wrong")
	}
}

func TestPage_WithDefaultTitle(t *testing.T) {
	t.Parallel()
	if got := (Page{}).WithDefaultTitle("Sign in").Title; got != "Sign in" {
		t.Errorf("empty title became %q", got)
	}
	if got := (Page{Title: "Mine"}).WithDefaultTitle("Sign in").Title; got != "Mine" {
		t.Errorf("set title became %q", got)
	}
	if documentTitle("") != "Hearth" || documentTitle("Sign in") != "Sign in · Hearth" {
		t.Error("documentTitle is wrong")
	}
}

func TestIsCurrent(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		path, href string
		want       bool
	}{
		{"/", "/", true},
		{"/privacy", "/", false},
		{"/teen", "/teen", true},
		{"/teen/requests", "/teen", true},
		{"/teenager", "/teen", false},
		{"/staff/login", "/staff", true},
	} {
		if got := isCurrent(c.path, c.href); got != c.want {
			t.Errorf("isCurrent(%q, %q) = %v", c.path, c.href, got)
		}
	}
}

func TestSummaryItems(t *testing.T) {
	t.Parallel()
	items := summaryItems(FieldErrors{"password": "p", "form": "f", "email": "e", "name": ""}, []string{"name", "email", "password"})
	var got []string
	for _, it := range items {
		got = append(got, it.name)
	}
	if len(items) != 3 || got[0] != "email" || got[1] != "password" || got[2] != "form" || items[2].field {
		t.Errorf("summary items = %+v", items)
	}
}
