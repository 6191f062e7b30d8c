package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// apiClient calls a node's HTTP API, with a staff token once logged in.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

// apiError is an error answer of the API.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("%s (%s)", e.Code, e.Message)
}

// post sends body as JSON and decodes a 2xx answer into out.
func (a *apiClient) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		return &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("POST %s: decoding the answer: %w", path, err)
	}
	return nil
}

// login exchanges an email and password for a bearer token.
func (a *apiClient) login(ctx context.Context, email, password string) error {
	var out struct {
		Token string `json:"token"`
	}
	if err := a.post(ctx, "/api/v1/login", map[string]string{"email": email, "password": password}, &out); err != nil {
		return fmt.Errorf("login failed: %w", err)
	}
	a.token = out.Token
	return nil
}

// room is one session of the run and the invites of its participants.
type room struct {
	sessionID string
	invites   []string
}

// setup creates one case, rooms sessions and participants invites in each.
func (a *apiClient) setup(ctx context.Context, rooms, participants int, record bool) (caseNumber string, out []room, err error) {
	now := time.Now()
	caseNumber = "LOAD-" + now.UTC().Format("20060102-150405.000")
	var c struct {
		ID string `json:"id"`
	}
	err = a.post(ctx, "/api/v1/cases", map[string]string{"kind": "mediation", "number": caseNumber,
		"title": fmt.Sprintf("Load test, %d rooms of %d", rooms, participants)}, &c)
	if err != nil {
		return "", nil, fmt.Errorf("creating the case: %w", err)
	}
	for r := range rooms {
		var s struct {
			ID string `json:"id"`
		}
		err := a.post(ctx, "/api/v1/cases/"+c.ID+"/sessions", map[string]any{"title": fmt.Sprintf("Load room %d", r+1),
			"scheduled_start": now.Format(time.RFC3339), "time_zone": "UTC", "record": record}, &s)
		if err != nil {
			return "", nil, fmt.Errorf("creating session %d: %w", r+1, err)
		}
		rm := room{sessionID: s.ID}
		for p := range participants {
			var inv struct {
				URL string `json:"url"`
			}
			err := a.post(ctx, "/api/v1/sessions/"+s.ID+"/invites",
				map[string]string{"name": fmt.Sprintf("Load %d.%d", r+1, p+1), "role": "party"}, &inv)
			if err != nil {
				return "", nil, fmt.Errorf("creating invite %d of session %d: %w", p+1, r+1, err)
			}
			i := strings.LastIndex(inv.URL, "/join/")
			if i < 0 {
				return "", nil, fmt.Errorf("invite link %q has no /join/", inv.URL)
			}
			rm.invites = append(rm.invites, inv.URL[i+len("/join/"):])
		}
		out = append(out, rm)
	}
	return caseNumber, out, nil
}
