package main

// The e-office rows of issue 13: get-token, a user list with a search, the
// to-do list and a flow start (flow/new-page/flow-save of leave_approval),
// each next to the native route doing the same, on a hub of their own
// (group "eoffice": the example config as hub-process.yaml, the e-office
// connector as a plugin process). The requests are those of
// connectors/eoffice/README.md and FLOWS.md.
//
//	go run ./bench/load -run 'bare|eoffice|native-(token|users|todo|start)'
//
// The token and start rows write (tokens in the token store, refresh
// tokens, records and workflow instances): each sends at most -writes
// requests, warm-up included; a row that reaches the cap is measured up to
// its last answer and says so.

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/valyala/fasthttp"
	"gopkg.in/yaml.v3"
)

const (
	eofficeAPI    = "/eoffice10/server/public/api/"
	eofficeAgent  = "100001"
	eofficeSecret = "Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok"
	// eofficeUsers users named 员工<n> are seeded, so the searched
	// 20-row page is full.
	eofficeUsers = 40
	// eofficeTodo pending leave approvals wait in alice's to-do list.
	eofficeTodo = 20
)

var writeCap = flag.Int64("writes", 10000, "most requests (warm-up included) of each writing row: token and flow-start rows")

// eofficeState is what the seeder leaves for the e-office group's rows.
type eofficeState struct {
	bob, alice   string // native bearer tokens (demo-client, password grant)
	ebob, ealice string // e-office tokens (app 100001)
}

// eofficeStates is keyed by the hub that was seeded.
var eofficeStates = map[*hub]*eofficeState{}

// groupSeeders seed a hub group beyond hub.seed, once per hub start.
var groupSeeders = map[string]func(*hub) error{"eoffice": seedEOffice}

// groupConfigs write the config of a hub group into the work directory
// (after writeConfigs) and return its path.
var groupConfigs = map[string]func(work string) (string, error){"eoffice": eofficeConfig}

var eofficeIsolation = flag.String("eoffice-isolation", "process",
	"connectors.eoffice.isolation of the e-office rows' hub: process (as configured in the example) | inproc (profiles then show the connector's code too)")

// eofficeConfig is hub-process.yaml with the e-office connector's
// isolation set to -eoffice-isolation.
func eofficeConfig(work string) (string, error) {
	if *eofficeIsolation != "process" && *eofficeIsolation != "inproc" {
		return "", fmt.Errorf("-eoffice-isolation %q: process or inproc", *eofficeIsolation)
	}
	raw, err := os.ReadFile(filepath.Join(work, "hub-process.yaml"))
	if err != nil {
		return "", err
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		return "", err
	}
	conns, _ := cfg["connectors"].(map[string]any)
	eo, _ := conns["eoffice"].(map[string]any)
	if eo == nil {
		return "", errors.New("example config has no connectors.eoffice")
	}
	eo["isolation"] = *eofficeIsolation
	fmt.Fprintln(os.Stderr, "loadbench: e-office rows with connectors.eoffice.isolation", *eofficeIsolation)
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(work, "hub-eoffice.yaml")
	return path, os.WriteFile(path, out, 0o600)
}

func init() {
	// The e-office rows go before the closing bare row.
	for i, sc := range scenarios {
		if sc.id == "bare-end" {
			scenarios = append(scenarios[:i:i], append(eofficeScenarios, scenarios[i:]...)...)
			return
		}
	}
	scenarios = append(scenarios, eofficeScenarios...)
}

var eofficeForm = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

// eofficeReq is an e-office request; token "" sends the PHP SDK's empty
// "Authorization: Bearer " (get-token). Answers must say "status":1: the
// e-office envelope reports errors with HTTP 200.
func eofficeReq(method, route string, body url.Values, token func(*eofficeState) string) func(string, *hub) target {
	return func(base string, h *hub) target {
		t := target{method: method, url: base + eofficeAPI + route, headers: map[string]string{},
			okBody: []byte(`"status":1`)}
		auth := "Bearer "
		if token != nil {
			auth += token(eofficeStates[h])
		}
		t.headers["Authorization"] = auth
		if body != nil {
			t.headers["Content-Type"] = eofficeForm["Content-Type"]
			t.body = []byte(body.Encode())
		}
		return t
	}
}

func nativeAs(method, path string, token func(*eofficeState) string) func(string, *hub) target {
	return func(base string, h *hub) target {
		return target{method: method, url: base + path,
			headers: map[string]string{"Authorization": "Bearer " + token(eofficeStates[h])}}
	}
}

func capped(mk func(string, *hub) target) func(string, *hub) target {
	return func(base string, h *hub) target {
		t := mk(base, h)
		t.budget = *writeCap
		return t
	}
}

var (
	eoGetToken = url.Values{"agent_id": {eofficeAgent}, "secret": {eofficeSecret}, "user": {"admin"}}
	// The PHP SDK's user list: nested search keys, 20 rows (README).
	eoUserList = url.Values{"autoFixPage": {"1"}, "limit": {"20"}, "order_by": {"[]"}, "page": {"1"},
		"search[user_name][0]": {"员"}, "search[user_name][1]": {"like"}}
	// flow 1 is leave_approval in the example config (FLOWS.md).
	eoFlowSave = url.Values{"flow_id": {"1"}, "flow_run_name": {"请假"}, "run_name_html": {"<div>请假</div>"},
		"form_data[DATA_1]": {"bench"}, "form_data[DATA_2]": {"1"}}
	nativeToken = url.Values{"grant_type": {"password"}, "client_id": {"demo-client"}, "client_secret": {"demo-secret"},
		"username": {"admin"}, "password": {"admin-pass"}}

	bobT    = func(s *eofficeState) string { return s.bob }
	aliceT  = func(s *eofficeState) string { return s.alice }
	ebobT   = func(s *eofficeState) string { return s.ebob }
	ealiceT = func(s *eofficeState) string { return s.ealice }
)

// eofficeScenarios pair each e-office route with its native equivalent;
// the to-do rows run before the starts, which add to the lists.
var eofficeScenarios = []scenario{
	{"eoffice-token", "e-office get-token (issues a token per call)", "eoffice", 0,
		capped(eofficeReq("POST", "open-api/get-token", eoGetToken, nil))},
	// A password grant checks a bcrypt hash (cost 10, tens of ms of CPU):
	// at 32 connections its answers take seconds and too few finish
	// inside the window; 4 connections keep both cores busy.
	{"native-token", "native POST /connect/token, password grant (4 connections)", "eoffice", 0,
		capped(func(base string, _ *hub) target {
			return target{method: "POST", url: base + "/connect/token", headers: eofficeForm,
				body: []byte(nativeToken.Encode()), okBody: []byte(`"access_token"`), conns: 4}
		})},
	{"eoffice-users", "e-office user list, 20 of 40, search user_name like", "eoffice", 0,
		eofficeReq("POST", "user/users", eoUserList, ebobT)},
	{"native-users", "native GET /api/v1/user, 20 of 40, contains(empName), $count", "eoffice", 0,
		nativeAs("GET", "/api/v1/user?$top=20&$count=true&$filter="+url.QueryEscape("contains(empName,'员')"), bobT)},
	{"eoffice-todo", "e-office to-do list (teed-to-do-list, 20 pending)", "eoffice", 0,
		eofficeReq("GET", "flow/flow-list/teed-to-do-list?page=1&limit=20", nil, ealiceT)},
	{"native-todo", "native GET /api/v1/workflow/tasks/todo, 20 pending", "eoffice", 0,
		nativeAs("GET", "/api/v1/workflow/tasks/todo?$top=20&$count=true", aliceT)},
	{"eoffice-start", "e-office flow-save of leave_approval (record + start)", "eoffice", 0,
		capped(eofficeReq("POST", "flow/new-page/flow-save", eoFlowSave, ebobT))},
	{"native-start", "native POST leave_request + POST /workflow/start", "eoffice", 0,
		capped(func(base string, h *hub) target {
			t := nativeAs("POST", "/api/v1/leave_request", bobT)(base, h)
			t.headers["Content-Type"] = "application/json"
			t.body = []byte(`{"reason":"bench","days":1}`)
			start := nativeAs("POST", "/api/v1/workflow/start", bobT)(base, h)
			start.headers["Content-Type"] = "application/json"
			t.chain = &start
			t.chainBody = startBody
			return t
		})},
}

// startBody is the workflow start of the record a create answered.
func startBody(answer []byte) ([]byte, error) {
	var rec struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(answer, &rec); err != nil || rec.ID == "" {
		return nil, fmt.Errorf("no record id in %.200s", answer)
	}
	return json.Marshal(map[string]string{"flowDefinitionId": "leave_approval", "businessKey": rec.ID})
}

// seedEOffice adds what the e-office rows read: 40 users 员工<n>, 20 leave
// approvals pending with alice (started natively by bob, as in
// cmd/eimshub BenchmarkEOfficeFlowVsNative), and the tokens.
func seedEOffice(h *hub) error {
	s := &eofficeState{}
	var err error
	if s.bob, err = h.passwordToken("bob", "bob-pass"); err != nil {
		return err
	}
	if s.alice, err = h.passwordToken("alice", "alice-pass"); err != nil {
		return err
	}
	for i := 1; i <= eofficeUsers; i++ {
		if _, err := h.postJSON(h.token, "/api/v1/user",
			map[string]any{"userName": fmt.Sprint("bench", i), "empName": fmt.Sprint("员工", i), "status": 0}); err != nil {
			return err
		}
	}
	for range eofficeTodo {
		rec, err := h.postJSON(s.bob, "/api/v1/leave_request", map[string]any{"reason": "seed", "days": 1})
		if err != nil {
			return err
		}
		if _, err := h.postJSON(s.bob, "/api/v1/workflow/start",
			map[string]any{"flowDefinitionId": "leave_approval", "businessKey": rec["id"]}); err != nil {
			return err
		}
	}
	if s.ebob, err = h.eofficeToken("bob"); err != nil {
		return err
	}
	if s.ealice, err = h.eofficeToken("alice"); err != nil {
		return err
	}
	eofficeStates[h] = s
	// The list rows must read what they claim: 20 rows of 40 users, 20
	// to-do rows.
	for _, c := range []struct {
		id          string
		rows, total int64
	}{{"eoffice-users", 20, eofficeUsers}, {"native-users", 20, eofficeUsers},
		{"eoffice-todo", eofficeTodo, eofficeTodo}, {"native-todo", eofficeTodo, eofficeTodo}} {
		for _, sc := range eofficeScenarios {
			if sc.id == c.id {
				if err := checkList(sc.make(h.base, h), c.rows, c.total); err != nil {
					return fmt.Errorf("%s: %w", c.id, err)
				}
			}
		}
	}
	return nil
}

// checkList sends t once and checks the page's row count and total: the
// e-office envelope {"data":{"total","list"}} or the native
// {"value","@odata.count"}.
func checkList(t target, rows, total int64) error {
	req := fasthttp.AcquireRequest()
	res := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	t.prepare(req)
	if failed := t.check(timeoutDoer{}.Do(req, res), res); failed != "" {
		return errors.New(failed)
	}
	var page struct {
		Data struct {
			Total int64             `json:"total"`
			List  []json.RawMessage `json:"list"`
		} `json:"data"`
		Value []json.RawMessage `json:"value"`
		Count int64             `json:"@odata.count"`
	}
	if err := json.Unmarshal(res.Body(), &page); err != nil {
		return fmt.Errorf("answer %.300s: %w", res.Body(), err)
	}
	n, tot := int64(len(page.Value)), page.Count
	if strings.Contains(t.url, eofficeAPI) {
		n, tot = int64(len(page.Data.List)), page.Data.Total
	}
	if n != rows || tot != total {
		return fmt.Errorf("%d rows of %d, want %d of %d: %.300s", n, tot, rows, total, res.Body())
	}
	return nil
}

func (h *hub) passwordToken(user, pass string) (string, error) {
	form := url.Values{"grant_type": {"password"}, "client_id": {"demo-client"}, "client_secret": {"demo-secret"},
		"username": {user}, "password": {pass}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := h.call("POST", "/connect/token", "", eofficeForm["Content-Type"], form.Encode(), &tok); err != nil {
		return "", fmt.Errorf("login %s: %w", user, err)
	}
	if tok.AccessToken == "" {
		return "", fmt.Errorf("login %s: no access_token", user)
	}
	return tok.AccessToken, nil
}

func (h *hub) eofficeToken(user string) (string, error) {
	form := url.Values{"agent_id": {eofficeAgent}, "secret": {eofficeSecret}, "user": {user}}
	var env struct {
		Status int `json:"status"`
		Data   struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	if err := h.call("POST", eofficeAPI+"open-api/get-token", "", eofficeForm["Content-Type"], form.Encode(), &env); err != nil {
		return "", fmt.Errorf("e-office get-token %s: %w", user, err)
	}
	if env.Status != 1 || len(env.Data.Token) != 128 {
		return "", fmt.Errorf("e-office get-token %s: status %d, token of %d characters", user, env.Status, len(env.Data.Token))
	}
	return env.Data.Token, nil
}

func (h *hub) postJSON(token, path string, body map[string]any) (map[string]any, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := h.call("POST", path, token, "application/json", string(raw), &out); err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	return out, nil
}

// call sends one request and decodes a 200 answer into out.
func (h *hub) call(method, path, token, contentType, body string, out any) error {
	req, err := http.NewRequest(method, h.base+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d %.300s", res.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return errors.Join(fmt.Errorf("answer %.300s", raw), err)
	}
	return nil
}
