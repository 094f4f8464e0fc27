package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/hearth-safety/hearth/web/webtest"
)

const (
	// testTimeout bounds a whole browser test, Chromium's start included, so
	// a hung browser fails the test instead of hanging CI until go test's
	// own 10-minute limit.
	testTimeout = 60 * time.Second
	// stepTimeout bounds one step (a navigation, a click, a wait), so a page
	// that never shows what a step waits for fails within seconds and names
	// the step, rather than using up the whole testTimeout.
	stepTimeout = 15 * time.Second
)

// Environment variables the browser tests read.
const (
	envChromium   = "HEARTH_CHROMIUM"         // path of the browser to use
	envRequire    = "HEARTH_REQUIRE_CHROMIUM" // "1": a missing browser fails instead of skipping
	envScreenshot = "HEARTH_SCREENSHOTS"      // directory for full-page screenshots; none when empty
)

// chromiumPath returns the Chromium to test with: HEARTH_CHROMIUM if set,
// else chromium, chromium-browser or google-chrome on PATH. Without one the
// test is skipped with a loud message, or fails when HEARTH_REQUIRE_CHROMIUM=1
// (CI sets it, so that a broken image cannot turn the suite green by
// skipping it).
func chromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(envChromium); p != "" {
		// An explicit choice is not second-guessed with a fallback to PATH:
		// whoever set it meant that browser, so a wrong path is reported.
		if abs, err := exec.LookPath(p); err == nil {
			return abs
		}
		noChromium(t, fmt.Sprintf("%s=%s is not an executable file", envChromium, p))
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	noChromium(t, "no Chromium found (apt-get install -y chromium)")
	return ""
}

// noChromium skips or fails the test for want of a browser.
func noChromium(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(envRequire) == "1" {
		t.Fatalf("browser tests need Chromium (%s=1), but %s", envRequire, why)
	}
	t.Skipf("SKIPPED browser tests: %s. Set %s to a browser, or %s=1 to make this a failure.", why, envChromium, envRequire)
}

// viewport is a browser window size to test or photograph pages at.
type viewport struct {
	name          string
	width, height int64
	phone         bool // mobile emulation: meta viewport honoured, touch, 2x pixels
}

var (
	desktop     = viewport{name: "desktop", width: 1280, height: 800}
	phoneShot   = viewport{name: "phone", width: 390, height: 844, phone: true}
	phoneNarrow = viewport{name: "phone-375", width: 375, height: 812, phone: true}
)

func (v viewport) emulate() chromedp.Action[chromedp.Void] {
	if v.phone {
		return chromedp.EmulateViewport(v.width, v.height,
			chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(2))
	}
	return chromedp.EmulateViewport(v.width, v.height)
}

// browser is one headless Chromium driving one tab against one Hearth.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string // the app's origin, http://127.0.0.1:port
	view viewport

	mu       sync.Mutex
	problems []string // CSP violations, uncaught exceptions, console errors
}

// newBrowser starts a fresh Chromium (its own profile, so no cookies carry
// over between tests) for the site at base, at view. Its console is watched
// for the whole test: a CSP violation, an uncaught exception or a
// console.error fails the test at its end, unless the test takes them with
// takeProblems.
// Call it after starting the site, so the browser closes before the site's
// server stops (cleanups run last-in, first-out).
func newBrowser(t *testing.T, base string, view viewport) *browser {
	t.Helper()
	exe := chromiumPath(t)
	profile := t.TempDir() // registered first, so removed after the browser is gone
	output := &webtest.SyncBuffer{}

	ctx, cancelTimeout := context.WithTimeout(context.Background(), testTimeout)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(output),
		chromedp.WindowSize(int(desktop.width), int(desktop.height)),
		// Tests often run as root in containers, where the sandbox cannot start.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// Without these Chromium keeps reaching for the internet (updates,
		// sync, field trials), which is slow or hangs on machines without it.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	b := &browser{t: t, base: base, view: view}
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(b.watch))
	b.ctx = tabCtx
	t.Cleanup(func() {
		cancelTab() // waits until Chromium has exited
		cancelAlloc()
		cancelTimeout()
	})
	// The first action starts Chromium and ties its life to ctx, so the
	// testTimeout above also kills a browser that hangs.
	if err := chromedp.Do(tabCtx, view.emulate()); err != nil {
		t.Fatalf("starting %s: %v\nChromium said:\n%s", exe, err, tail(output.String(), 2000))
	}
	t.Cleanup(b.checkConsole) // runs before the browser closes
	return b
}

// watch records what must never happen on a Hearth page. It runs on
// chromedp's event loop, so it only appends under the lock.
func (b *browser) watch(ev any) {
	var p string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + firstLine(d.Exception.Description)
		}
		p = fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, text)
	case *runtime.EventConsoleAPICalled:
		// Hearth's pages have no script of their own; htmx reports its
		// failures (a bad target, a refused request) with console.error.
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			p = "console." + string(ev.Type) + ": " + consoleArgs(ev.Args)
		}
	case *log.EventEntryAdded:
		// The browser reports CSP violations in its log, with source
		// "security". Network entries (the 404 and 410 pages' own status)
		// are expected and not listed.
		e := ev.Entry
		if e.Source == log.EntrySourceSecurity || strings.Contains(e.Text, "Content Security Policy") {
			p = fmt.Sprintf("%s %s at %s: %s", e.Source, e.Level, e.URL, e.Text)
		}
	}
	if p != "" {
		b.mu.Lock()
		b.problems = append(b.problems, p)
		b.mu.Unlock()
	}
}

// takeProblems returns the problems seen so far and forgets them.
func (b *browser) takeProblems() []string {
	b.t.Helper()
	// A round trip: the listener sees every event the browser sent before
	// the answer, so nothing that already happened is still in flight.
	b.eval("sync with the browser's events", "0", new(int))
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// checkConsole fails the test for every problem not taken.
func (b *browser) checkConsole() {
	if b.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		_, _ = chromedp.Run(ctx, chromedp.Evaluate[int]("0"))
		cancel()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("browser console: %s", p)
	}
}

// do runs actions as one step, failing the test with what and the current
// page when they fail.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v%s", what, err, b.where())
	}
}

// eval evaluates a JavaScript expression in the page and decodes its JSON
// value into out.
func (b *browser) eval(what, expr string, out any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		b.t.Fatalf("%s: %v%s", what, err, b.where())
	}
	if err := json.Unmarshal(raw, out); err != nil {
		b.t.Fatalf("%s: decoding %s: %v", what, raw, err)
	}
}

// load runs actions that make the page navigate (a click on a link or a
// submit button, or Navigate itself) and waits for the new page. It returns
// the HTTP status of the document, after redirects.
func (b *browser) load(what string, actions ...chromedp.Action[chromedp.Void]) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		b.t.Fatalf("%s: %v%s", what, err, b.where())
	}
	return statusOf(resp)
}

// open navigates to a path of the app (or an absolute URL) and returns the
// HTTP status.
func (b *browser) open(pathOrURL string) int {
	b.t.Helper()
	u := pathOrURL
	if strings.HasPrefix(u, "/") {
		u = b.base + u
	}
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.t.Fatalf("open %s: %v", pathOrURL, err)
	}
	return statusOf(resp)
}

func statusOf(r *network.Response) int {
	if r == nil {
		return 0
	}
	return int(r.Status)
}

// click clicks the element sel matches and waits for the page it leads to.
func (b *browser) click(sel string) int {
	b.t.Helper()
	return b.load("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// typeInto types text into the field sel matches, key by key.
func (b *browser) typeInto(sel, text string) {
	b.t.Helper()
	b.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// where describes the current page for failure messages; empty when the
// browser cannot tell any more.
func (b *browser) where() string {
	if b.ctx.Err() != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " — h1: " + ((document.querySelector("h1") || {}).innerText || "(none)")`))
	if err != nil {
		return ""
	}
	return " (on " + s + ")"
}

// pageState is what a person sees of the page's frame: where they are, the
// heading, the flash messages and who the header says is signed in. Text is
// only reported for elements that are rendered with a size, so an assertion
// on it is also an assertion that it shows.
type pageState struct {
	Path      string   `json:"path"`
	Title     string   `json:"title"`
	Heading   string   `json:"heading"`
	Flashes   []string `json:"flashes"`
	Account   string   `json:"account"`   // the name in the header
	Role      string   `json:"role"`      // the role badge next to it
	Email     string   `json:"email"`     // the address under it
	SignOut   bool     `json:"signOut"`   // a visible "Sign out" button
	HXHeaders bool     `json:"hxHeaders"` // <body hx-headers> carries the CSRF token for htmx
}

const pageStateJS = `(() => {
	const shown = e => { if (!e) return false; const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility === "visible"; };
	const text = s => { const e = document.querySelector(s); return shown(e) ? e.innerText.trim().replace(/\s+/g, " ") : ""; };
	const out = [...document.querySelectorAll(".flash")].filter(shown).map(e => e.innerText.trim().replace(/\s+/g, " "));
	const so = document.querySelector("form.signout button[type=submit]");
	return {
		path: location.pathname, title: document.title, heading: text("main h1"), flashes: out,
		account: text(".account-name-text"), role: text(".account-name .badge"), email: text(".account-email"),
		signOut: shown(so) && so.innerText.trim() === "Sign out",
		hxHeaders: (document.body.getAttribute("hx-headers") || "").includes("X-CSRF-Token"),
	};
})()`

// state reads the page's pageState.
func (b *browser) state() pageState {
	b.t.Helper()
	var s pageState
	b.eval("read the page", pageStateJS, &s)
	return s
}

// hasFlash reports whether a visible flash message contains msg.
func (s pageState) hasFlash(msg string) bool {
	for _, f := range s.Flashes {
		if strings.Contains(f, msg) {
			return true
		}
	}
	return false
}

// expectPage fails the test unless the page is at path with heading.
func (b *browser) expectPage(s pageState, path, heading string) {
	b.t.Helper()
	if s.Path != path || s.Heading != heading {
		b.t.Fatalf("on %s with heading %q, want %s with %q (title %q, flashes %q)", s.Path, s.Heading, path, heading, s.Title, s.Flashes)
	}
}

// expectHTMX checks that htmx loaded under the CSP (its script carries the
// nonce) and read Hearth's configuration from the meta tag: with allowEval
// off it never needs 'unsafe-eval'.
func (b *browser) expectHTMX() {
	b.t.Helper()
	var h struct {
		Loaded    bool   `json:"loaded"`
		Version   string `json:"version"`
		AllowEval bool   `json:"allowEval"`
		Indicator bool   `json:"indicatorStyles"`
	}
	b.eval("inspect htmx", `(() => window.htmx === undefined ? {loaded: false} :
		{loaded: true, version: String(htmx.version), allowEval: htmx.config.allowEval, indicatorStyles: htmx.config.includeIndicatorStyles})()`, &h)
	switch {
	case !h.Loaded:
		b.t.Errorf("htmx did not load on %s (window.htmx is undefined): a CSP nonce or the script path is wrong", b.state().Path)
	case h.AllowEval || h.Indicator:
		b.t.Errorf("htmx %s ignored the htmx-config meta tag (allowEval=%v, includeIndicatorStyles=%v): it would need unsafe-eval or inline styles", h.Version, h.AllowEval, h.Indicator)
	}
}

// overflow is what the page's width looks like at the current viewport.
type overflow struct {
	ScrollWidth int      `json:"scrollWidth"`
	ClientWidth int      `json:"clientWidth"`
	InnerWidth  int      `json:"innerWidth"`
	Wide        []string `json:"wide"` // elements reaching past the right edge
}

const overflowJS = `(() => {
	const root = document.documentElement, w = root.clientWidth, wide = [];
	const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (typeof e.className === "string" && e.className.trim() ? "." + e.className.trim().split(/\s+/).join(".") : "");
	for (const e of document.body.querySelectorAll("*")) {
		const r = e.getBoundingClientRect();
		if (r.width > 0 && r.right > w + 0.5) wide.push(name(e) + " right=" + Math.round(r.right));
	}
	return {scrollWidth: root.scrollWidth, clientWidth: w, innerWidth: window.innerWidth, wide: wide.slice(0, 6)};
})()`

// measureOverflow reads the page's widths.
func (b *browser) measureOverflow() overflow {
	b.t.Helper()
	var o overflow
	b.eval("measure the page width", overflowJS, &o)
	return o
}

// fits reports whether nothing makes the page scroll sideways at width w:
// the document is no wider than the window, and the window is the emulated
// width (mobile Chrome zooms out when content is too wide, which widens
// innerWidth and would hide the overflow from a plain comparison).
func (o overflow) fits(w int64) bool {
	return o.ScrollWidth <= o.InnerWidth && o.ScrollWidth <= o.ClientWidth && int64(o.InnerWidth) == w && int64(o.ClientWidth) == w
}

// visibleProblem returns why an element sel matches cannot be seen and
// tapped without scrolling: none matches, or one of them has no size, is
// outside the viewport (also when clipped by a scrolling row such as the
// phone nav), is invisible, or is covered by another element. Empty when
// every match can be.
func (b *browser) visibleProblem(sel string) string {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	var why string
	b.eval("check that "+sel+" shows", fmt.Sprintf(`((sel) => {
		const all = [...document.querySelectorAll(sel)];
		if (all.length === 0) return "is not on the page";
		for (const e of all) {
			const name = JSON.stringify(e.innerText.trim().slice(0, 40));
			const r = e.getBoundingClientRect(), cs = getComputedStyle(e);
			if (r.width < 1 || r.height < 1) return name + " has no size";
			if (cs.visibility !== "visible" || Number(cs.opacity) === 0) return name + " is invisible";
			if (r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight)
				return name + " is outside the " + innerWidth + "x" + innerHeight + " viewport (" + Math.round(r.left) + "," + Math.round(r.top) + " to " + Math.round(r.right) + "," + Math.round(r.bottom) + ")";
			const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
			if (!hit || !(hit === e || e.contains(hit))) return name + " is covered by " + (hit ? hit.outerHTML.slice(0, 80) : "nothing");
			// A link scrolled out of sight inside a row with overflow hidden
			// or auto is not covered, but cut: its label must be in the row.
			// (The label, not the padded box: a pill's edge may touch it.)
			const range = document.createRange();
			range.selectNodeContents(e);
			const tr = range.getBoundingClientRect();
			for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
				if (getComputedStyle(p).overflowX === "visible") continue;
				const pr = p.getBoundingClientRect();
				if (tr.left < pr.left - 0.5 || tr.right > pr.right + 0.5)
					return name + " is cut off by its scrolling row " + p.tagName.toLowerCase() + "." + p.className + " (label " + Math.round(tr.left) + " to " + Math.round(tr.right) + ", row " + Math.round(pr.left) + " to " + Math.round(pr.right) + ")";
			}
		}
		return "";
	})(%s)`, q), &why)
	return why
}

// snap saves full-page screenshots of the current page, at desktop and
// phone width, as <name>-desktop.png and <name>-phone.png in the directory
// HEARTH_SCREENSHOTS names. Without it, it does nothing: tests never write
// files by default.
func (b *browser) snap(name string) {
	b.t.Helper()
	dir := os.Getenv(envScreenshot)
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	for _, v := range []viewport{desktop, phoneShot} {
		b.do("emulate "+v.name, v.emulate())
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			b.t.Fatalf("screenshot %s at %s: %v", name, v.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+v.name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	b.do("restore the viewport", b.view.emulate())
}

// consoleArgs renders console call arguments roughly as DevTools does.
func consoleArgs(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		var s string
		switch {
		case a.Type == runtime.RemoteObjectTypeString && json.Unmarshal(a.Value, &s) == nil:
		case a.Description != "":
			s = firstLine(a.Description)
		default:
			s = string(a.Value)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// pathOf returns the path of an absolute URL.
func pathOf(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// waitFor polls the JavaScript expression expr in the page until it is
// truthy, failing the test with what when it is not within stepTimeout.
// It is for changes a page makes to itself (htmx swaps), where there is no
// navigation to wait for.
func (b *browser) waitFor(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")", chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		b.t.Fatalf("waiting until %s: %v%s", what, err, b.where())
	}
}

// shownJS is a JavaScript function that reports whether an element is
// rendered with a size and visible; shared by the helpers below.
const shownJS = `(e => { if (!e) return false; const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility === "visible"; })`

// text returns the visible text of the first element sel matches, with
// white space collapsed; "" when none matches or it is not shown. An
// assertion on it is also an assertion that the element shows.
func (b *browser) text(sel string) string {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	var s string
	b.eval("read "+sel, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return %s(e) ? e.innerText.trim().replace(/\s+/g, " ") : ""; })()`, q, shownJS), &s)
	return s
}

// texts returns the visible text of every shown element sel matches.
func (b *browser) texts(sel string) []string {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	var s []string
	b.eval("read every "+sel, fmt.Sprintf(`[...document.querySelectorAll(%s)].filter(%s).map(e => e.innerText.trim().replace(/\s+/g, " "))`, q, shownJS), &s)
	return s
}

// has reports whether an element sel matches is on the page and shown.
func (b *browser) has(sel string) bool {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	var ok bool
	b.eval("look for "+sel, fmt.Sprintf(`[...document.querySelectorAll(%s)].some(%s)`, q, shownJS), &ok)
	return ok
}

// bellCount reads the unread count on the header's bell: the number shown
// on it (0 when none shows), checked against the words a screen reader
// hears, so a count that only one of them carries fails the test.
func (b *browser) bellCount() int {
	b.t.Helper()
	var got struct {
		Shown int    `json:"shown"`
		Label string `json:"label"`
		Found bool   `json:"found"`
	}
	b.eval("read the bell", `(() => {
		const bell = document.querySelector("header #notification-bell");
		if (!bell) return {found: false};
		const c = bell.querySelector(".bell-count");
		return {found: true, shown: c && c.getBoundingClientRect().width > 0 ? parseInt(c.innerText, 10) : 0,
			label: (bell.querySelector(".visually-hidden") || {}).textContent || ""};
	})()`, &got)
	if !got.Found {
		b.t.Fatalf("no notification bell in the header%s", b.where())
	}
	want := "Notifications"
	switch {
	case got.Shown == 1:
		want = "1 unread notification"
	case got.Shown > 1:
		want = fmt.Sprintf("%d unread notifications", got.Shown)
	}
	if strings.TrimSpace(got.Label) != want {
		b.t.Errorf("the bell shows %d but is labelled %q, want %q", got.Shown, got.Label, want)
	}
	return got.Shown
}

// expectFlashIconsCentred fails the test unless each visible flash's icon is
// centred on the first line of its message (within a pixel): an icon
// pinned to the top of a taller line looks as if it floats above the text.
func (b *browser) expectFlashIconsCentred() {
	b.t.Helper()
	var off []struct {
		Text  string  `json:"text"`
		Delta float64 `json:"delta"`
	}
	b.eval("measure the flash icons", `[...document.querySelectorAll(".flash")].filter(`+shownJS+`).map(f => {
		const icon = f.querySelector(".icon").getBoundingClientRect();
		const p = f.querySelector("p"), lh = parseFloat(getComputedStyle(p).lineHeight);
		const top = p.getBoundingClientRect().top;
		return {text: p.innerText.trim(), delta: (icon.top + icon.height / 2) - (top + lh / 2)};
	}).filter(x => Math.abs(x.delta) > 1)`, &off)
	for _, f := range off {
		b.t.Errorf("the icon of flash %q is %.1fpx off the middle of its first line", f.Text, f.Delta)
	}
}

// expectHeaderControlsAligned fails the test unless the header's nav links,
// small buttons and bell are all the same height, and at least 44px (a
// comfortable touch target).
func (b *browser) expectHeaderControlsAligned() {
	b.t.Helper()
	var hs []struct {
		What   string  `json:"what"`
		Height float64 `json:"height"`
	}
	b.eval("measure the header controls", `[...document.querySelectorAll("header .nav-link, header .button, header .bell")].filter(`+shownJS+`).map(e =>
		({what: e.innerText.trim() || e.id, height: e.getBoundingClientRect().height}))`, &hs)
	if len(hs) == 0 {
		b.t.Errorf("no header controls to measure%s", b.where())
	}
	for _, h := range hs {
		if h.Height != 44 {
			b.t.Errorf("header control %q is %.1fpx tall, want 44px like the others", h.What, h.Height)
		}
	}
}
