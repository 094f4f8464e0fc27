package handlers

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// Health answers the liveness and readiness probes.
type Health struct {
	h *Handlers
	// draining is set at shutdown so load balancers stop sending traffic
	// before the server stops accepting it.
	draining atomic.Bool
}

// NewHealth returns the probe handlers.
func NewHealth(h *Handlers) *Health { return &Health{h: h} }

// Drain makes readiness fail from now on.
func (hl *Health) Drain() { hl.draining.Store(true) }

// Live reports that the process is up.
func (hl *Health) Live(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// Ready reports whether this process should get traffic: not shutting
// down, the database answering, and its schema at the version this binary
// expects.
func (hl *Health) Ready(c echo.Context) error {
	if hl.draining.Load() {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "draining"})
	}
	cx, cancel := context.WithTimeout(ctx(c), 2*time.Second)
	defer cancel()
	if err := hl.h.Store.Ping(cx); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
	}
	cur, latest, err := hl.h.Store.MigrationVersions(cx)
	if err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "cannot read schema version"})
	}
	if cur != latest {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "migrations pending", "schema_version": cur, "expected_version": latest})
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "schema_version": cur})
}
