package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
)

// RequireClient authenticates the messaging service by its bearer key.
// Revoked and unknown keys fail alike, at once.
func (h *Handlers) RequireClient(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		auth := c.Request().Header.Get(echo.HeaderAuthorization)
		key, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || key == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="hearth"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "Send the API key as Authorization: Bearer <key>.")
		}
		key = strings.TrimSpace(key)
		// Keys live in memory on a current node; a key it does not know
		// (just created elsewhere) or a node in doubt asks the database.
		hash := store.HashToken(key)
		var cached *models.ServiceClient
		if h.Policies != nil {
			cl, ok, current := h.Policies.Client(hash)
			if ok && current {
				c.Set(keyClient, &cl)
				c.Set(keyActor, models.Actor{ClientID: cl.ID})
				return next(c)
			}
			if ok {
				cached = &cl
			}
		}
		if cached != nil && strings.HasPrefix(c.Path(), "/api/v1/dm/check") {
			// A node in doubt holds every DM check anyway; asking the
			// database (perhaps the very thing it cannot reach) would only
			// make the hold late and pile connections onto an outage.
			c.Set(keyClient, cached)
			c.Set(keyActor, models.Actor{ClientID: cached.ID})
			return next(c)
		}
		timeout := time.Second
		if cached != nil {
			timeout = 200 * time.Millisecond
		}
		lookup, cancel := context.WithTimeout(ctx(c), timeout)
		defer cancel()
		cl, err := h.Store.ClientByKey(lookup, key)
		if err != nil && !errors.Is(err, models.ErrNotFound) && cached != nil {
			// The database is unreachable and this node knew the key: let
			// the request through to answer it the safe way (a DM check on
			// a node that is not current holds; anything needing the
			// database fails) rather than with an authentication error.
			cl, err = *cached, nil
		}
		if errors.Is(err, models.ErrNotFound) {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="hearth", error="invalid_token"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "The API key is not valid or was revoked.")
		} else if err != nil {
			if lookup.Err() != nil {
				return echo.NewHTTPError(http.StatusServiceUnavailable, "Hearth cannot check the API key right now. Retry shortly.")
			}
			return err
		}
		c.Set(keyClient, &cl)
		c.Set(keyActor, models.Actor{ClientID: cl.ID})
		return next(c)
	}
}

// clientID returns the authenticated service client's ID.
func clientID(c echo.Context) int64 {
	if cl, ok := c.Get(keyClient).(*models.ServiceClient); ok {
		return cl.ID
	}
	return 0
}

// decodeJSON reads a JSON body strictly into v: the content type must be
// JSON, unknown fields are refused by name (so no "text" or "content" field
// can ever slip in), and one value only. Size is capped by the route's body
// limit.
func decodeJSON(c echo.Context, v any) error {
	body, err := readJSONBody(c)
	if err != nil {
		return err
	}
	return DecodeStrict(body, v)
}

// readJSONBody checks that the body is JSON by its content type and reads
// it whole, within the route's body limit, without decoding it.
func readJSONBody(c echo.Context) ([]byte, error) {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, echo.NewHTTPError(http.StatusUnsupportedMediaType, "Send the body as application/json.")
		}
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		var he *echo.HTTPError
		switch {
		case errors.As(err, &mbe):
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("The body is over the limit of %d bytes.", mbe.Limit))
		case errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge:
			// echo's BodyLimit stops a body without a Content-Length here.
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, "The body is over this request's size limit.")
		}
		return nil, echo.NewHTTPError(http.StatusBadRequest, "The body could not be read.")
	}
	return body, nil
}

// DecodeStrict decodes one JSON value from body into v, refusing unknown
// fields (names are matched exactly, duplicates refused), wrong types and
// trailing data, with errors that name the field. It is exported for the
// fuzz tests.
//
// The fast path is the v2 JSON decoder (github.com/go-json-experiment/json,
// what encoding/json/v2 grew from): on the DM check it decodes in about a
// third of the time of encoding/json. A body it refuses is decoded again
// with encoding/json only to word the error the way callers already read it.
func DecodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "The body is empty; send a JSON object.")
	}
	err := jsonv2.Unmarshal(body, v, jsonv2.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	// Word the refusal with encoding/json, on a fresh value so v stays as
	// the failed decode left it (callers never use it after an error).
	fresh := reflect.New(reflect.TypeOf(v).Elem()).Interface()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if v1err := dec.Decode(fresh); v1err != nil {
		return jsonError(v1err)
	}
	if _, tokErr := dec.Token(); tokErr != io.EOF {
		return echo.NewHTTPError(http.StatusBadRequest, "The body has data after the JSON object.")
	}
	// Only the stricter decoder objected: a field name in the wrong case,
	// a name given twice, or text that is not valid UTF-8.
	var se *jsonv2.SemanticError
	if errors.As(err, &se) && se.JSONPointer != "" {
		field := strings.ReplaceAll(strings.TrimPrefix(string(se.JSONPointer), "/"), "/", ".")
		return models.Invalid(field, "is not a field of this request (names are case-sensitive). Hearth never accepts message content.")
	}
	return echo.NewHTTPError(http.StatusBadRequest, "The body is not valid JSON for this request: field names must be exact and appear once, and text must be UTF-8.")
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("The body is not valid JSON (at byte %d).", syn.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return echo.NewHTTPError(http.StatusBadRequest, "The body is not valid JSON: it ends too soon.")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return echo.NewHTTPError(http.StatusBadRequest, "The body must be a JSON object.")
		}
		return models.Invalid(field, "must be "+jsonKind(typ.Type.Kind().String()))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return models.Invalid(name, "is not a field of this request. Hearth never accepts message content.")
	}
	return echo.NewHTTPError(http.StatusBadRequest, "The body could not be decoded as JSON.")
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return "of a different type"
}

// problemJSON writes a successful JSON answer.
func writeJSON(c echo.Context, status int, v any) error {
	return c.JSON(status, v)
}
