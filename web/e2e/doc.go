// Package e2e holds Hearth's browser tests: they start a real Hearth (see
// web/webtest) and drive it with a real headless Chromium through chromedp,
// the way a guardian or a teen uses it, by typing and clicking.
//
// The package has no code of its own; the tests are in package e2e_test.
//
//	go test ./web/e2e/                               # skips loudly without Chromium
//	HEARTH_REQUIRE_CHROMIUM=1 go test ./web/e2e/     # CI: a missing Chromium fails
//	HEARTH_CHROMIUM=/usr/bin/chromium go test ./web/e2e/
//	HEARTH_SCREENSHOTS=/tmp/hearth-shots go test ./web/e2e/   # also write full-page PNGs
//
// Chromium is found through HEARTH_CHROMIUM, else as chromium,
// chromium-browser or google-chrome on PATH (apt-get install -y chromium).
package e2e
