package h3yun_test

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if a := os.Getenv("H3YUN_PLUGIN_PPROF"); a != "" && os.Getenv(pluginEnv) == "1" {
		go http.ListenAndServe(a, nil)
	}
}
