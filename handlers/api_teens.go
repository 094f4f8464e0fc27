package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
)

// teenRequest is the body of PUT /api/v1/teens/{id}.
type teenRequest struct {
	DisplayName *string `json:"display_name"`
	BirthMonth  *string `json:"birth_month"`
	Timezone    *string `json:"timezone"`
}

// TeenResponse describes a provisioned teen to the messaging service.
type TeenResponse struct {
	PlatformUserID string    `json:"platform_user_id"`
	DisplayName    string    `json:"display_name"`
	BirthMonth     string    `json:"birth_month"`
	Timezone       string    `json:"timezone"`
	Age            int       `json:"age"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func teenResponse(t models.Teen, now time.Time) TeenResponse {
	return TeenResponse{PlatformUserID: t.PlatformUserID, DisplayName: t.DisplayName, BirthMonth: t.BirthMonth.String(),
		Timezone: t.TimeZone, Age: t.Age(now), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

// PutTeen provisions or updates a teen: 201 when created, 200 when updated.
func (h *Handlers) PutTeen(c echo.Context) error {
	id := c.Param("id")
	if err := models.ValidatePlatformID("platform_user_id", id); err != nil {
		return err
	}
	body, err := readJSONBody(c)
	if err != nil {
		return err
	}
	in, err := decodeTeen(body)
	if err != nil {
		return err
	}
	t, created, err := h.Store.UpsertTeen(ctx(c), clientID(c), id, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(c, status, teenResponse(t, h.Store.Now()))
}

// decodeTeen reads the body of PUT /api/v1/teens/{id}: strict JSON with
// every field present. The store validates the values.
func decodeTeen(body []byte) (store.TeenInput, error) {
	var req teenRequest
	if err := DecodeStrict(body, &req); err != nil {
		return store.TeenInput{}, err
	}
	ve := &models.ValidationError{}
	if req.DisplayName == nil {
		ve.Add("display_name", "is required")
	}
	if req.BirthMonth == nil {
		ve.Add("birth_month", "is required, written YYYY-MM")
	}
	if req.Timezone == nil {
		ve.Add("timezone", "is required: an IANA time zone such as Europe/London")
	}
	if err := ve.Err(); err != nil {
		return store.TeenInput{}, err
	}
	return store.TeenInput{DisplayName: *req.DisplayName, BirthMonth: *req.BirthMonth, TimeZone: *req.Timezone}, nil
}

// SigninLinkResponse is the body of POST /api/v1/teens/{id}/signin-links.
type SigninLinkResponse struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateSigninLink returns a single-use link, valid 10 minutes, that signs
// the teen in to Hearth. The request has no body.
func (h *Handlers) CreateSigninLink(c echo.Context) error {
	id := c.Param("id")
	if err := models.ValidatePlatformID("platform_user_id", id); err != nil {
		return err
	}
	token, exp, err := h.Store.CreateSigninLink(ctx(c), clientID(c), id)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusCreated, SigninLinkResponse{URL: h.absURL("/t/signin/" + token), ExpiresAt: exp})
}
