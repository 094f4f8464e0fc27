package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/views/pages"
)

// ruleCounts builds the "what the rules did" card for teenID as the viewer
// may see it: name is the teen's name, or "you" on the teen's own pages.
// The card only illustrates, so a failure to load it is logged and the
// page is shown without it (nil).
func (h *Handlers) ruleCounts(c echo.Context, teenID int64, name string) *pages.RuleCountsView {
	rcs, err := h.Store.RuleCounts(ctx(c), actor(c), teenID, models.RuleCountDays)
	if err != nil {
		h.Logger.ErrorContext(ctx(c), "rule counts", "teen_id", teenID, "err", err,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return nil
	}
	items := make([]pages.RuleCountItem, len(rcs))
	for i, rc := range rcs {
		items[i] = pages.RuleCountItem{Reason: rc.Reason.String(), Count: rc.Count}
	}
	v := pages.NewRuleCounts(name, models.RuleCountDays, items)
	return &v
}
