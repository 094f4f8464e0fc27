package pages

import (
	"strings"
	"testing"

	"github.com/hearth-safety/hearth/views"
)

func TestDeleteAccount_saysWhatHappens(t *testing.T) {
	t.Parallel()
	g := &views.Viewer{Name: "Pat", Email: "pat@example.com", Role: views.RoleGuardian}
	doc := render(t, DeleteAccount(DeleteAccountProps{Page: page(g, "/account/delete"), Teens: []string{"Maya", "Leo"}, ConfirmWord: "DELETE",
		Errors: views.FieldErrors{FieldPassword: "That isn't your password."}}))
	cons := text(doc.Find(".consequences"))
	for _, want := range []string{"Maya and Leo", "can sign up again", "Audit entries"} {
		if !strings.Contains(cons, want) {
			t.Errorf("consequences %q lack %q", cons, want)
		}
	}
	form := doc.Find(`form[method="post"][action="/account/delete"]`)
	if form.Find(`input[name="_csrf"]`).Length() != 1 || form.Find(`input[name="password"][type="password"]`).Length() != 1 ||
		form.Find(`input[name="confirm"]`).Length() != 1 {
		t.Error("the form lacks the CSRF token, the password or the confirmation")
	}
	if got := text(doc.Find("#delete-password-error")); !strings.Contains(got, "isn't your password") {
		t.Errorf("password error %q", got)
	}
	if !strings.Contains(text(doc.Find(`label[for="delete-confirm"]`)), "DELETE") {
		t.Error("the confirmation label does not say what to type")
	}

	none := render(t, DeleteAccount(DeleteAccountProps{Page: page(g, "/account/delete"), ConfirmWord: "DELETE"}))
	if !strings.Contains(text(none.Find(".consequences")), "You supervise nobody") {
		t.Error("with no teens the page still speaks of ending supervision")
	}
}
