package models

import (
	"bufio"
	"context"
	_ "embed"
	"strings"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

// Password length limits from SECURITY.md: long enough to resist guessing,
// capped so a huge input cannot make hashing expensive.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 128
)

//go:embed common-passwords.txt
var commonPasswordsFile string

var commonPasswords = func() map[string]struct{} {
	m := make(map[string]struct{}, 200)
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsFile))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			m[line] = struct{}{}
		}
	}
	return m
}()

// ValidatePassword applies the password rules: 8–128 characters, no
// composition rules, and not one of the passwords people use most.
// The field name lets forms with a confirmation box point at the right input.
func ValidatePassword(field, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n == 0:
		return Invalid(field, "Enter a password.")
	case n < MinPasswordLen:
		return Invalid(field, "Use at least 8 characters. A short phrase of a few words works well.")
	case n > MaxPasswordLen:
		return Invalid(field, "Use at most 128 characters.")
	}
	if _, common := commonPasswords[strings.ToLower(password)]; common {
		return Invalid(field, "That password is one of the most commonly used, so it is easy to guess. Choose another.")
	}
	return nil
}

// PasswordParams are the argon2id settings for new hashes. They meet OWASP's
// minimum (m=19 MiB, t=2, p=1) with headroom; raising them makes Verify report
// that old hashes need rehashing on the next sign-in.
var PasswordParams = &argon2id.Params{
	Memory:      19 * 1024,
	Iterations:  2,
	Parallelism: 1,
	SaltLength:  16,
	KeyLength:   32,
}

// hashSlots bounds how many argon2id computations run at once: each takes
// 19 MiB and a core, so a burst of sign-ins must queue rather than exhaust
// memory or starve the DM checks.
var hashSlots = make(chan struct{}, 2)

func acquire(ctx context.Context) error {
	select {
	case hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func release() { <-hashSlots }

// HashPassword returns the PHC-formatted argon2id hash of password.
func HashPassword(ctx context.Context, password string) (string, error) {
	if err := acquire(ctx); err != nil {
		return "", err
	}
	defer release()
	return argon2id.CreateHash(password, PasswordParams)
}

// dummyHash is verified against when an account does not exist, so an
// unknown email costs the same time as a wrong password.
var dummyHash = func() string {
	h, err := argon2id.CreateHash("not a real password, only for timing", PasswordParams)
	if err != nil {
		panic(err)
	}
	return h
}()

// VerifyPassword reports whether password matches hash and whether the hash
// was made with weaker parameters than PasswordParams (so the caller should
// store a fresh one). An empty hash is checked against a dummy so that the
// time taken never tells whether the account exists.
func VerifyPassword(ctx context.Context, password, hash string) (match, rehash bool, err error) {
	if err := acquire(ctx); err != nil {
		return false, false, err
	}
	defer release()
	if hash == "" {
		_, _, _ = argon2id.CheckHash(password, dummyHash)
		return false, false, nil
	}
	ok, params, err := argon2id.CheckHash(password, hash)
	if err != nil || !ok {
		return false, false, err
	}
	weaker := params.Memory < PasswordParams.Memory || params.Iterations < PasswordParams.Iterations ||
		params.Parallelism < PasswordParams.Parallelism || params.KeyLength < PasswordParams.KeyLength
	return true, weaker, nil
}
