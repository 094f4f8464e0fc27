package e2e_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	qr "github.com/piglig/go-qr"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
)

// TestBrowser_StaffEnrolAndSignIn is a support lead's first sign-in and a
// later one, typed and clicked: the password, the enrolment page with its
// QR code and key (the test plays the authenticator app: it checks the QR
// code carries the key and computes the code from the key shown), the
// recovery codes shown once, the queue, signing out, and signing in again
// with a fresh code.
func TestBrowser_StaffEnrolAndSignIn(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	const email, password, name = "support@example.com", "demo-support-pass", "Sasha Support"
	lead, err := app.Store.CreateUser(t.Context(), store.NewUser{Email: email, Name: name, Password: password, Role: models.RoleLead})
	if err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, app.HTTP.URL, desktop)
	staffPassword(b, email, password)
	b.expectPage(b.state(), "/staff/login/enrol", "Set up your authenticator app")
	if s := b.state(); s.Account != "" || s.SignOut {
		t.Errorf("the enrolment page shows %q as signed in before the second factor", s.Account)
	}
	secret := strings.ReplaceAll(b.text("#totp-secret"), " ", "")
	if len(secret) != 32 {
		t.Fatalf("the key shown is %q", secret)
	}
	// Scanning the QR code gives an app the same key: it is the QR code of
	// the otpauth:// URL that holds it.
	enr, err := app.Store.PendingTOTPEnrolment(t.Context(), lead)
	if err != nil || enr.Secret != secret {
		t.Fatalf("the page's key %q is not the enrolment's (%v)", secret, err)
	}
	if !strings.Contains(enr.URL, "secret="+secret) {
		t.Fatalf("the enrolment URL %q lacks the key", enr.URL)
	}
	var shown string
	b.eval("read the QR code", `document.querySelector(".qr svg path").getAttribute("d")`, &shown)
	code, err := qr.EncodeText(enr.URL, qr.Medium)
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := code.ToSVGBytes(qr.NewQrCodeImgConfig(8, 2, qr.WithOptimalSVG()))
	want := regexp.MustCompile(` d="([^"]+)"`).FindSubmatch(svg)
	if want == nil || shown != string(want[1]) {
		t.Error("the QR code on the page does not encode the enrolment URL with the key shown")
	}
	if why := b.visibleProblem(".qr"); why != "" {
		t.Errorf("the QR code: %s", why)
	}
	b.snap("staff-enrol")

	enrolStep := models.TOTPStep(time.Now())
	b.typeInto("#enrol-code", appCode(t, secret, time.Now()))
	b.click(`main form[action="/staff/login/enrol"] button[type=submit]`)
	b.expectPage(b.state(), "/staff/login/enrol", "Save your recovery codes")
	codes := b.texts(".recovery-codes code")
	if len(codes) != models.RecoveryCodeCount {
		t.Fatalf("%d recovery codes shown, want %d", len(codes), models.RecoveryCodeCount)
	}
	if s := b.state(); s.Account != name || s.Role != "Support lead" {
		t.Errorf("after enrolment the header shows %q (%q)", s.Account, s.Role)
	}
	b.snap("staff-recovery-codes")
	b.click(`main a[href="/staff"]`)
	b.expectPage(b.state(), "/staff", "Hello, "+name)

	b.click("form.signout button[type=submit]")
	if s := b.state(); s.Path != "/staff/login" {
		t.Fatalf("signing out led to %s", s.Path)
	}

	// A later sign-in: the password, then a code. The code of the step
	// that confirmed enrolment is spent, so the app's next one is used.
	staffPassword(b, email, password)
	b.expectPage(b.state(), "/staff/login/code", "Enter your code")
	b.snap("staff-code")
	at := time.Now()
	if models.TOTPStep(at) <= enrolStep {
		at = at.Add(models.TOTPPeriod)
	}
	b.typeInto("#staff-code", appCode(t, secret, at))
	b.click(`main form[action="/staff/login/code"] button[type=submit]`)
	b.expectPage(b.state(), "/staff", "Hello, "+name)

	b.click(`header a[href="/staff/accounts"]`)
	b.expectPage(b.state(), "/staff/accounts", "Staff accounts")
	if got := b.text("tbody .account-factor"); !strings.Contains(got, "Authenticator app") || !strings.Contains(got, "10 recovery codes left") {
		t.Errorf("the lead's own row shows the second factor as %q", got)
	}
	b.snap("staff-accounts")
}

// staffPassword types the staff sign-in form and submits it.
func staffPassword(b *browser, email, password string) {
	b.t.Helper()
	b.open("/staff/login")
	b.typeInto("#staff-login-email", email)
	b.typeInto("#staff-login-password", password)
	b.click(`main form[action="/staff/login"] button[type=submit]`)
}

// appCode is what an authenticator app holding secret shows at t.
func appCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := models.TOTPCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
