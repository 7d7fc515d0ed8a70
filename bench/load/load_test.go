package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClosedLoopChainAndBudget drives a real HTTP server with a chained
// target (create, then start the created id) under a request budget: the
// loop sends exactly the budget, every chained request carries the id its
// first request got, and the result says it was capped.
func TestClosedLoopChainAndBudget(t *testing.T) {
	var mu sync.Mutex
	created, started := map[string]bool{}, map[string]bool{}
	var bad []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/create":
			id := fmt.Sprint("r", len(created)+1)
			created[id] = true
			fmt.Fprintf(w, `{"id":%q}`, id)
		case "/start":
			var b struct {
				Def string `json:"flowDefinitionId"`
				Key string `json:"businessKey"`
			}
			if err := json.Unmarshal(raw, &b); err != nil || b.Def != "leave_approval" || !created[b.Key] || started[b.Key] {
				bad = append(bad, string(raw))
				http.Error(w, "bad start", http.StatusBadRequest)
				return
			}
			started[b.Key] = true
			fmt.Fprint(w, `{"ok":true}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	const budget = 40
	start := target{method: "POST", url: srv.URL + "/start", headers: map[string]string{"Content-Type": "application/json"}}
	tg := target{method: "POST", url: srv.URL + "/create", body: []byte(`{}`), chain: &start, chainBody: startBody, budget: budget}
	res, err := closedLoop(context.Background(), tg, 4, 0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("chained requests without the created id: %q", bad)
	}
	if len(created) != budget || len(started) != budget {
		t.Errorf("created %d, started %d; want %d each (the budget)", len(created), len(started), budget)
	}
	if !res.capped || res.requests+res.failures != budget || res.failures != 0 {
		t.Errorf("capped=%v requests=%d failures=%d (%s); want capped, %d requests", res.capped, res.requests, res.failures, res.firstErr, budget)
	}
}

// TestClosedLoopChainFailure: a failing chained request fails the
// iteration, with the chained answer as the reason.
func TestClosedLoopChainFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/create" {
			fmt.Fprint(w, `{"no":"id"}`)
			return
		}
		fmt.Fprint(w, `{}`)
	}))
	defer srv.Close()
	start := target{method: "POST", url: srv.URL + "/start"}
	tg := target{method: "POST", url: srv.URL + "/create", chain: &start, chainBody: startBody, budget: 5}
	if err := once(tg); err == nil || !strings.Contains(err.Error(), "no record id") {
		t.Errorf("once: %v, want the missing record id", err)
	}
	res, err := closedLoop(context.Background(), tg, 1, 0, time.Minute)
	if err == nil || res.failures != 5 || !strings.Contains(res.firstErr, "no record id") {
		t.Errorf("closedLoop: err %v, failures %d, first %q", err, res.failures, res.firstErr)
	}
}

func TestStartBody(t *testing.T) {
	for _, c := range []struct {
		answer, want string
	}{
		{`{"id":"abc","title":"x"}`, `{"businessKey":"abc","flowDefinitionId":"leave_approval"}`},
		{`{"id":""}`, ""},
		{`{"ID":5}`, ""},
		{`not json`, ""},
	} {
		got, err := startBody([]byte(c.answer))
		if c.want == "" {
			if err == nil {
				t.Errorf("%s: %s, want an error", c.answer, got)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("%s: %s %v, want %s", c.answer, got, err, c.want)
		}
	}
}

// TestScenarioOrder: ids are unique, the e-office rows run on their hub
// before the closing bare row, each e-office row has its native
// neighbour, and the to-do rows run before the starts that add to-dos.
func TestScenarioOrder(t *testing.T) {
	pos := map[string]int{}
	for i, sc := range scenarios {
		if _, dup := pos[sc.id]; dup {
			t.Errorf("scenario %s twice", sc.id)
		}
		pos[sc.id] = i
	}
	if pos["bare-end"] != len(scenarios)-1 {
		t.Errorf("bare-end at %d of %d", pos["bare-end"], len(scenarios))
	}
	for _, sc := range eofficeScenarios {
		if sc.hub != "eoffice" {
			t.Errorf("%s on hub %q", sc.id, sc.hub)
		}
		if name, ok := strings.CutPrefix(sc.id, "eoffice-"); ok && pos["native-"+name] != pos[sc.id]+1 {
			t.Errorf("%s is not followed by native-%s", sc.id, name)
		}
	}
	if pos["native-todo"] > pos["eoffice-start"] {
		t.Error("the to-do rows must run before the flow starts")
	}
}
