// Command bare is the baseline of the DM check benchmark (bench/dmcheck):
// the least an echo v4 server can do for POST /api/v1/dm/check. It decodes
// the same JSON body into the same request shape as Hearth's handler, with
// encoding/json and unknown fields refused, and answers one constant
// decision. No middleware, no authentication, no lookups: whatever Hearth
// spends beyond this is the price of its middleware, its key check and its
// decision.
//
//	go run ./bench/bare -addr 127.0.0.1:18081
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
)

// checkContext mirrors policy.Context: the facts the messaging service
// sends about the two parties and the message.
type checkContext struct {
	MutualFollow            *bool `json:"mutual_follow,omitempty"`
	SenderIsAdult           *bool `json:"sender_is_adult,omitempty"`
	SenderAccountAgeDays    *int  `json:"sender_account_age_days,omitempty"`
	RecipientIsAdult        *bool `json:"recipient_is_adult,omitempty"`
	RecipientAccountAgeDays *int  `json:"recipient_account_age_days,omitempty"`
	HasMedia                *bool `json:"has_media,omitempty"`
	HasLink                 *bool `json:"has_link,omitempty"`
}

// check mirrors the request of POST /api/v1/dm/check.
type check struct {
	SenderID         *string       `json:"sender_id"`
	RecipientID      *string       `json:"recipient_id"`
	SentAt           *string       `json:"sent_at"`
	Context          *checkContext `json:"context"`
	MinPolicyVersion *int64        `json:"min_policy_version"`
}

// result mirrors the answer's shape.
type result struct {
	Decision      string `json:"decision"`
	Reason        string `json:"reason"`
	DecidedBy     string `json:"decided_by"`
	PolicyVersion int64  `json:"policy_version"`
}

var constant = result{Decision: "allow", Reason: "not_supervised", DecidedBy: "none"}

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "address to listen on")
	flag.Parse()

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	e.POST("/api/v1/dm/check", func(c echo.Context) error {
		var req check
		dec := json.NewDecoder(c.Request().Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		if req.SenderID == nil || req.RecipientID == nil {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, "sender_id and recipient_id are required")
		}
		return c.JSON(http.StatusOK, constant)
	})

	srv := &http.Server{Addr: *addr, Handler: e, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Printf("bare baseline listening on http://%s\n", *addr)
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "bare:", err)
			os.Exit(1)
		}
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}
}
