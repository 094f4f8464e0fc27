package web

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// env returns a getenv that answers from m, as the process environment would.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// key returns a session key of n bytes, each byte b.
func key(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

func TestLoad_defaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load with nothing set: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Env", c.Env, "development"},
		{"Dev()", c.Dev(), true},
		{"Addr", c.Addr, "127.0.0.1:8080"},
		{"BaseURL", c.BaseURL.String(), "http://127.0.0.1:8080"},
		{"TLS()", c.TLS(), false},
		{"DatabaseURL", c.DatabaseURL, "./hearth.db"},
		{"SessionKeysGenerated", c.SessionKeysGenerated, true},
		{"len(SessionKeys)", len(c.SessionKeys), 1},
		{"SMTPURL", c.SMTPURL, ""},
		{"MailFrom", c.MailFrom, "Hearth <no-reply@localhost>"},
		{"MetricsAddr", c.MetricsAddr, ""},
		{"len(TrustedProxies)", len(c.TrustedProxies), 0},
		{"LogFormat", c.LogFormat, "text"},
		{"LogLevel", c.LogLevel, "info"},
		{"APIRate", c.APIRate, 20000.0},
		{"ShutdownTimeout", c.ShutdownTimeout, 15 * time.Second},
		{"AlertRetention", c.AlertRetention, 90 * 24 * time.Hour},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if len(c.SessionKeys) == 1 {
		if n := len(c.SessionKeys[0]); n < 32 {
			t.Errorf("generated session key is %d bytes, want at least 32", n)
		}
		if bytes.Equal(c.SessionKeys[0], make([]byte, len(c.SessionKeys[0]))) {
			t.Error("generated session key is all zeros")
		}
		// Each process makes its own: two loads must not share a key.
		c2, err := Load(env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(c.SessionKeys[0], c2.SessionKeys[0]) {
			t.Error("two loads generated the same session key")
		}
	}
}

func TestLoad_baseURLFollowsAddr(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"HEARTH_ADDR": "127.0.0.1:9999"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL.String(); got != "http://127.0.0.1:9999" {
		t.Errorf("BaseURL = %q, want http://127.0.0.1:9999", got)
	}
}

// TestLoad_baseURLForAllInterfaces: listening on every interface must not
// make the default public URL one that no browser can open, since it goes
// into emailed links.
func TestLoad_baseURLForAllInterfaces(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"HEARTH_ADDR": ":8080"}))
	if err != nil {
		if !strings.Contains(err.Error(), "HEARTH_BASE_URL") {
			t.Fatalf("error %q should ask for HEARTH_BASE_URL", err)
		}
		return
	}
	if c.BaseURL.Hostname() == "" {
		t.Fatalf("HEARTH_ADDR=:8080 without HEARTH_BASE_URL gives base URL %q; emailed links would not open", c.BaseURL)
	}
}

func TestLoad_production(t *testing.T) {
	t.Parallel()
	t.Run("without_session_keys_fails_naming_the_variable", func(t *testing.T) {
		t.Parallel()
		_, err := Load(env(map[string]string{"HEARTH_ENV": "production"}))
		if err == nil {
			t.Fatal("production without HEARTH_SESSION_KEYS loaded without error")
		}
		if !strings.Contains(err.Error(), "HEARTH_SESSION_KEYS") {
			t.Errorf("error %q does not name HEARTH_SESSION_KEYS", err)
		}
	})
	t.Run("with_keys_logs_json_and_is_not_dev", func(t *testing.T) {
		t.Parallel()
		c, err := Load(env(map[string]string{
			"HEARTH_ENV":          "production",
			"HEARTH_SESSION_KEYS": hex.EncodeToString(key(32, 7)),
			"HEARTH_BASE_URL":     "https://hearth.example.com",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Dev() || c.LogFormat != "json" || c.SessionKeysGenerated {
			t.Errorf("Dev()=%v LogFormat=%q SessionKeysGenerated=%v; want false, json, false", c.Dev(), c.LogFormat, c.SessionKeysGenerated)
		}
		if len(c.SessionKeys) != 1 || !bytes.Equal(c.SessionKeys[0], key(32, 7)) {
			t.Errorf("SessionKeys = %x, want the configured key", c.SessionKeys)
		}
	})
}

// TestLoad_badValues sets one variable at a time to a bad value and expects
// an error that names that variable.
func TestLoad_badValues(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, value string
		// why notes what once let this value through.
		why string
	}{
		{"HEARTH_ENV", "staging", ""},
		{"HEARTH_ADDR", "nonsense", ""},
		{"HEARTH_ADDR", "127.0.0.1", ""},
		{"HEARTH_BASE_URL", "ftp://hearth.example.com", ""},
		{"HEARTH_BASE_URL", "https://hearth.example.com/app", ""},
		{"HEARTH_BASE_URL", "hearth.example.com", ""},
		{"HEARTH_SESSION_KEYS", "not a key!", ""},
		{"HEARTH_SESSION_KEYS", hex.EncodeToString(key(16, 1)), ""},
		{"HEARTH_SMTP_URL", "http://mail.example.com", ""},
		{"HEARTH_SMTP_URL", "smtp://", ""},
		{"HEARTH_SMTP_URL", "smtp://mail.example.com:25?tls=maybe", "Load checks only scheme and host of HEARTH_SMTP_URL; serve then fails late on the tls parameter"},
		{"HEARTH_MAIL_FROM", "not an address", "Load never validates HEARTH_MAIL_FROM"},
		{"HEARTH_DATABASE_URL", "mysql://db.example.com/hearth", "Load never validates HEARTH_DATABASE_URL; the later store error does not name the variable"},
		{"HEARTH_METRICS_ADDR", "metrics", ""},
		{"HEARTH_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal", ""},
		{"HEARTH_TRUSTED_PROXIES", "10.0.0.0/33", ""},
		{"HEARTH_LOG_FORMAT", "xml", ""},
		{"HEARTH_LOG_LEVEL", "loud", ""},
		{"HEARTH_API_RATE", "fast", ""},
		{"HEARTH_API_RATE", "0", ""},
		{"HEARTH_API_RATE", "-5", ""},
		{"HEARTH_API_RATE", "NaN", "HEARTH_API_RATE=NaN passes `rate <= 0`"},
		{"HEARTH_API_RATE", "Inf", "HEARTH_API_RATE=Inf is accepted; int(2*Inf) is then the limiter's burst"},
		{"HEARTH_SHUTDOWN_TIMEOUT", "soon", ""},
		{"HEARTH_SHUTDOWN_TIMEOUT", "0s", ""},
		{"HEARTH_SHUTDOWN_TIMEOUT", "1m", ""},
		{"HEARTH_SHUTDOWN_TIMEOUT", "-3s", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			t.Parallel()
			_, err := Load(env(map[string]string{tc.name: tc.value}))
			ok := err != nil && strings.Contains(err.Error(), tc.name)
			switch {
			case err == nil:
				t.Fatalf("%s=%q loaded without error", tc.name, tc.value)
			case !ok:
				t.Fatalf("error %q does not name %s", err, tc.name)
			}
		})
	}
}

func TestLoad_reportsEveryProblemTogether(t *testing.T) {
	t.Parallel()
	bad := map[string]string{
		"HEARTH_ENV":              "staging",
		"HEARTH_ADDR":             "nonsense",
		"HEARTH_METRICS_ADDR":     "metrics",
		"HEARTH_BASE_URL":         "ftp://x",
		"HEARTH_SESSION_KEYS":     "short",
		"HEARTH_SMTP_URL":         "http://mail",
		"HEARTH_TRUSTED_PROXIES":  "proxy",
		"HEARTH_LOG_FORMAT":       "xml",
		"HEARTH_LOG_LEVEL":        "loud",
		"HEARTH_API_RATE":         "fast",
		"HEARTH_SHUTDOWN_TIMEOUT": "soon",
	}
	_, err := Load(env(bad))
	if err == nil {
		t.Fatal("loaded without error")
	}
	for name := range bad {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	// One line per problem, so an operator reads them as a list.
	if n := strings.Count(err.Error(), "\n") + 1; n != len(bad) {
		t.Errorf("error has %d lines for %d problems:\n%v", n, len(bad), err)
	}
}

func TestLoad_sessionKeys(t *testing.T) {
	t.Parallel()
	k32, k48 := key(32, 0xAB), key(48, 0x5C)
	accepted := []struct {
		name, value string
		want        [][]byte
	}{
		{"hex_32_bytes", hex.EncodeToString(k32), [][]byte{k32}},
		{"hex_upper_case", strings.ToUpper(hex.EncodeToString(k32)), [][]byte{k32}},
		{"base64_std", base64.StdEncoding.EncodeToString(k32), [][]byte{k32}},
		{"base64_raw_url", base64.RawURLEncoding.EncodeToString(key(33, 0xFB)), [][]byte{key(33, 0xFB)}},
		{"base64_48_bytes", base64.StdEncoding.EncodeToString(k48), [][]byte{k48}},
		{"two_keys_for_rotation", hex.EncodeToString(k32) + ", " + base64.StdEncoding.EncodeToString(k48), [][]byte{k32, k48}},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(env(map[string]string{"HEARTH_SESSION_KEYS": tc.value}))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if c.SessionKeysGenerated {
				t.Error("SessionKeysGenerated is true for configured keys")
			}
			if len(c.SessionKeys) != len(tc.want) {
				t.Fatalf("got %d keys, want %d", len(c.SessionKeys), len(tc.want))
			}
			for i := range tc.want {
				if !bytes.Equal(c.SessionKeys[i], tc.want[i]) {
					t.Errorf("key %d = %x, want %x", i+1, c.SessionKeys[i], tc.want[i])
				}
			}
		})
	}
	refused := []struct {
		name, value, want string
	}{
		{"hex_31_bytes", hex.EncodeToString(key(31, 1)), "31 bytes"},
		{"base64_16_bytes", base64.StdEncoding.EncodeToString(key(16, 1)), "16 bytes"},
		{"second_key_short", hex.EncodeToString(k32) + "," + hex.EncodeToString(key(8, 1)), "key 2"},
		{"neither_hex_nor_base64", "this is not a key!", "neither hex nor base64"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(env(map[string]string{"HEARTH_SESSION_KEYS": tc.value}))
			if err == nil {
				t.Fatal("accepted")
			}
			if msg := err.Error(); !strings.Contains(msg, "HEARTH_SESSION_KEYS") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q should name HEARTH_SESSION_KEYS and say %q", msg, tc.want)
			}
			if strings.Contains(err.Error(), tc.value) {
				t.Errorf("error repeats the secret key: %q", err)
			}
		})
	}
}

func TestLoad_trustedProxies(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"HEARTH_TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.5 ,fd00::/8,::1,"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.168.1.5/32"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("::1/128"),
	}
	if len(c.TrustedProxies) != len(want) {
		t.Fatalf("TrustedProxies = %v, want %v", c.TrustedProxies, want)
	}
	for i := range want {
		if c.TrustedProxies[i] != want[i] {
			t.Errorf("TrustedProxies[%d] = %v, want %v", i, c.TrustedProxies[i], want[i])
		}
	}
}

func TestLoad_baseURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		base    string
		wantTLS bool
		want    string
	}{
		{"https://hearth.example.com", true, "https://hearth.example.com"},
		{"https://hearth.example.com/", true, "https://hearth.example.com"},
		{"http://localhost:8080", false, "http://localhost:8080"},
	}
	for _, tc := range cases {
		t.Run(tc.base, func(t *testing.T) {
			t.Parallel()
			c, err := Load(env(map[string]string{"HEARTH_BASE_URL": tc.base}))
			if err != nil {
				t.Fatal(err)
			}
			if c.TLS() != tc.wantTLS {
				t.Errorf("TLS() = %v, want %v", c.TLS(), tc.wantTLS)
			}
			// Handlers append paths such as /signup/confirm/…: a trailing
			// slash would double it.
			if got := c.BaseURL.String(); got != tc.want {
				t.Errorf("BaseURL = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoad_valuesAreTrimmedAndKept(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		"HEARTH_ADDR":             " 0.0.0.0:9000 ",
		"HEARTH_BASE_URL":         "https://hearth.example.com",
		"HEARTH_DATABASE_URL":     "postgres://hearth@db:5432/hearth",
		"HEARTH_SMTP_URL":         "smtps://u:p@mail.example.com:465",
		"HEARTH_MAIL_FROM":        "Hearth <no-reply@hearth.example.com>",
		"HEARTH_METRICS_ADDR":     "127.0.0.1:9464",
		"HEARTH_LOG_FORMAT":       "json",
		"HEARTH_LOG_LEVEL":        "debug",
		"HEARTH_API_RATE":         "12.5",
		"HEARTH_SHUTDOWN_TIMEOUT": "7s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:9000" || c.DatabaseURL != "postgres://hearth@db:5432/hearth" || c.SMTPURL != "smtps://u:p@mail.example.com:465" ||
		c.MailFrom != "Hearth <no-reply@hearth.example.com>" || c.MetricsAddr != "127.0.0.1:9464" || c.LogFormat != "json" ||
		c.LogLevel != "debug" || c.APIRate != 12.5 || c.ShutdownTimeout != 7*time.Second {
		t.Errorf("configured values not kept: %+v", c)
	}
}

// TestSettings_documentsEveryVariable keeps `hearth help` honest: every
// variable Load reads is listed in Settings, once.
func TestSettings_documentsEveryVariable(t *testing.T) {
	t.Parallel()
	var read []string
	Load(func(k string) string { read = append(read, k); return "" })
	listed := map[string]int{}
	for _, s := range Settings {
		listed[s.Name]++
		if s.Default == "" || s.Meaning == "" {
			t.Errorf("%s has no default or meaning documented", s.Name)
		}
	}
	for _, k := range read {
		if listed[k] != 1 {
			t.Errorf("Load reads %s, which Settings lists %d times", k, listed[k])
		}
	}
	seen := map[string]bool{}
	for _, k := range read {
		seen[k] = true
	}
	for name := range listed {
		if !seen[name] {
			t.Errorf("Settings lists %s, which Load does not read", name)
		}
	}
}

func TestLoad_alertRetention(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"90d", 90 * 24 * time.Hour},
		{"1d", 24 * time.Hour},
		{"1095d", 3 * 365 * 24 * time.Hour},
		{"36h", 36 * time.Hour},
		{"2160h", 90 * 24 * time.Hour},
		{" 30d ", 30 * 24 * time.Hour},
	} {
		c, err := Load(env(map[string]string{"HEARTH_ALERT_RETENTION": tc.in}))
		if err != nil || c.AlertRetention != tc.want {
			t.Errorf("HEARTH_ALERT_RETENTION=%q: %v, %v; want %v", tc.in, c.AlertRetention, err, tc.want)
		}
	}
	for _, in := range []string{"0d", "12h", "23h59m", "1096d", "-5d", "90", "ninety days", "d", "9.5d", "30days"} {
		_, err := Load(env(map[string]string{"HEARTH_ALERT_RETENTION": in}))
		if err == nil || !strings.Contains(err.Error(), "HEARTH_ALERT_RETENTION") || !strings.Contains(err.Error(), "90d") {
			t.Errorf("HEARTH_ALERT_RETENTION=%q: err = %v, want a message naming the variable and an example", in, err)
		}
	}
}
